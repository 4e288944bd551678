"""The tag GUI offscreen, over a real library whose right tags are known (single-colour photos, colour
tags, the colour-word fake encoder): the viewer's tag chips with accept, reject and add; the review queue
one by one, in bulk and paged; a new custom tag that tag:NAME then finds; and sensitivity steps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import WAIT_MS, make_colour_classes, make_photo, sync_runner
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot
from tag_helpers import ids_of, open_tag_library, tagged_colour_library

from photosift.app.gui.dialogs import review_queue
from photosift.app.gui.dialogs.review_queue import ReviewQueue
from photosift.app.gui.dialogs.tags import NewTagDialog, SensitivityDialog
from photosift.app.gui.dialogs.viewer import Viewer
from photosift.app.gui.prefs import apply_theme
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.app.gui.widgets.tag_chips import ACCEPTED_MARK, TagChips
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library

COLOURS = ("red", "green", "blue")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_colour_classes(tmp_path / "photos", per_class=4)


@pytest.fixture
def library(home: Path, photos: Path) -> Iterator[Library]:
    lib = tagged_colour_library(home, photos)
    yield lib
    lib.close()


@pytest.fixture
def thumbnails(home: Path) -> Iterator[ThumbnailCache]:
    cache = ThumbnailCache(home / "cache" / "thumbnails")
    yield cache
    cache.wait()


@pytest.fixture
def viewer(qtbot: QtBot, runner: TaskRunner, thumbnails: ThumbnailCache, library: Library) -> Viewer:
    model = ResultsModel(thumbnails)
    model.reset(library.search("red", limit=50))
    viewer = Viewer(model, runner)
    qtbot.addWidget(viewer)
    viewer.show()
    return viewer


def red_ids(library: Library, photos: Path) -> list[int]:
    return sorted(ids_of(library, photos / "red"))


def show_photo(qtbot: QtBot, chips: TagChips, photo_id: int) -> None:
    with qtbot.waitSignal(chips.shown, timeout=WAIT_MS, check_params_cb=lambda shown: shown == photo_id):
        chips.show_photo(photo_id)


def chip_states(chips: TagChips) -> dict[str, str]:
    return {str(c.property("tag")): str(c.property("state")) for c in chips.chips}


def trigger(qtbot: QtBot, chips: TagChips, name: str, action: str) -> None:
    """Choose `action` in the menu of tag `name`'s chip and wait for the chips to be fetched again."""
    menu = chips.menu(name)
    chosen = next(a for a in menu.findChildren(QAction) if a.text().startswith(action))
    with qtbot.waitSignals([chips.labels_changed, chips.shown], timeout=WAIT_MS):
        chosen.trigger()
    menu.deleteLater()


def test_the_viewer_shows_a_red_photos_tags_and_a_click_searches(qtbot: QtBot, viewer: Viewer) -> None:
    chips = viewer.details.tags
    hit = viewer.model.hit(0)
    with qtbot.waitSignal(chips.shown, timeout=WAIT_MS, check_params_cb=lambda shown: shown == hit.photo_id):
        viewer.show_row(0)
    assert chip_states(chips) == {"red": "auto"}  # suggested, not yet the user's
    chip = chips.chip("red")
    assert chip is not None and chip.text() == "red" and chip.accessibleName() and "red" in chip.toolTip()
    assert chips.add_button.isVisibleTo(viewer) and chips.accessibleName()
    with qtbot.waitSignal(viewer.tag_clicked, timeout=WAIT_MS) as clicked:
        qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert clicked.args == ["red"]


def test_chips_follow_a_theme_switch_at_once(qtbot: QtBot, runner: TaskRunner) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    chips = TagChips(runner)
    qtbot.addWidget(chips)
    chips.show()
    try:
        apply_theme(app, "dark")
        # Light text on the dark theme's buttons, not the light theme's black.
        qtbot.waitUntil(lambda: chips.add_button.palette().color(QPalette.ColorRole.ButtonText).lightness() > 128)
    finally:
        apply_theme(app, "system")


def test_accepting_and_rejecting_a_chip_stores_labels(
    qtbot: QtBot, runner: TaskRunner, library: Library, photos: Path
) -> None:
    chips = TagChips(runner)
    qtbot.addWidget(chips)
    photo = red_ids(library, photos)[0]
    show_photo(qtbot, chips, photo)

    trigger(qtbot, chips, "red", "Accept")
    assert library.tags.labelled_photos(True)["red"] == [photo]
    chip = chips.chip("red")
    assert chip is not None and chip.text() == ACCEPTED_MARK + "red" and chip_states(chips) == {"red": "accepted"}
    assert "Accept" not in [a.text() for a in chips.menu("red").actions()]  # already accepted

    trigger(qtbot, chips, "red", "Reject")
    assert library.tags.labelled_photos(False) == {"red": [photo]}
    assert "red" not in library.tags.labelled_photos(True)
    assert chips.chips == [] and photo not in library.tagged_photo_ids("red")  # rejected: not carried


def test_forgetting_a_label_hands_the_tag_back_to_automatic_tagging(
    qtbot: QtBot, runner: TaskRunner, library: Library, photos: Path
) -> None:
    chips = TagChips(runner)
    qtbot.addWidget(chips)
    photo = red_ids(library, photos)[0]
    library.tags.accept([(photo, "red")])
    show_photo(qtbot, chips, photo)
    trigger(qtbot, chips, "red", "Forget my label")
    assert library.tags.labelled_photos(True) == {} and chip_states(chips) == {"red": "auto"}


def test_add_tag_labels_the_photo_with_an_existing_tag(
    qtbot: QtBot, runner: TaskRunner, library: Library, photos: Path
) -> None:
    chips = TagChips(runner)
    qtbot.addWidget(chips)
    chips.show()
    photo = red_ids(library, photos)[0]
    show_photo(qtbot, chips, photo)

    chips.start_adding()
    assert chips.editor.isVisible() and not chips.add_button.isVisible()
    names = chips.editor.completer().model()
    qtbot.waitUntil(lambda: names.rowCount() > 300, timeout=WAIT_MS)  # built-in and custom tags
    chips.editor.setText("Blue")
    with qtbot.waitSignals([chips.labels_changed, chips.shown], timeout=WAIT_MS):
        qtbot.keyClick(chips.editor, Qt.Key.Key_Return)
    assert chip_states(chips) == {"blue": "accepted", "red": "auto"}
    assert library.tags.labelled_photos(True) == {"blue": [photo]} and photo in library.tagged_photo_ids("blue")
    assert not chips.editor.isVisible() and chips.add_button.isVisible()

    chips.start_adding()
    with qtbot.waitSignals([chips.labels_changed, chips.shown], timeout=WAIT_MS):
        chips.editor.completer().activated[str].emit("green")  # picked from the completion list
    assert chip_states(chips) == {"blue": "accepted", "green": "accepted", "red": "auto"}

    chips.start_adding()
    qtbot.keyClick(chips.editor, Qt.Key.Key_Escape)  # cancels adding, and nothing else
    assert not chips.editor.isVisible()

    chips.start_adding()
    chips.editor.setText("rde")
    qtbot.keyClick(chips.editor, Qt.Key.Key_Return)
    qtbot.waitUntil(chips.note.isVisible, timeout=WAIT_MS)
    assert "Did you mean 'red'" in chips.note.text()


def test_the_viewer_keeps_its_keys_around_the_chips(qtbot: QtBot, viewer: Viewer) -> None:
    chips = viewer.details.tags
    with qtbot.waitSignal(chips.shown, timeout=WAIT_MS):
        viewer.show_row(0)
    assert viewer.focusWidget() is viewer  # not the first chip, where Space would click it
    chips.start_adding()
    assert viewer.focusWidget() is chips.editor
    with qtbot.assertNotEmitted(viewer.closed):
        qtbot.keyClick(chips.editor, Qt.Key.Key_Escape)  # cancels adding, and does not close the viewer
    assert viewer.isVisible() and viewer.focusWidget() is viewer
    chip = chips.chips[0]
    chip.setFocus()
    with qtbot.waitSignal(chips.shown, timeout=WAIT_MS):
        viewer.show_row(1)  # the focused chip goes with its photo
    assert viewer.focusWidget() is viewer


@pytest.fixture
def queue(qtbot: QtBot, runner: TaskRunner, thumbnails: ThumbnailCache) -> ReviewQueue:
    queue = ReviewQueue(runner, thumbnails)
    qtbot.addWidget(queue)
    with qtbot.waitSignal(queue.loaded, timeout=WAIT_MS):
        queue.show()
    return queue


def shown_pairs(queue: ReviewQueue) -> set[tuple[int, str]]:
    return {(item.photo_id, item.tag) for item in queue.model.items}


def review_and_reload(qtbot: QtBot, queue: ReviewQueue, act: Callable[[], object]) -> None:
    """Run `act` (a key press or a button click) and wait for the write and the fetch that follows it."""
    with qtbot.waitSignals([queue.labels_changed, queue.loaded], timeout=WAIT_MS, order="strict"):
        act()


def test_the_review_queue_lists_suggestions_and_a_and_r_review_them(
    qtbot: QtBot, queue: ReviewQueue, library: Library, photos: Path
) -> None:
    expected = {(p, c) for c in COLOURS for p in ids_of(library, photos / c)}
    assert shown_pairs(queue) == expected and queue.count_label.text() == "12 suggestions waiting"
    confidences = [item.confidence for item in queue.model.items]
    assert confidences == sorted(confidences, reverse=True)  # clearest first
    first_row = queue.model.index(0)
    assert queue.model.data(first_row) == queue.model.items[0].tag  # no score beside it: the order is not by score
    assert "similarity" in queue.model.data(first_row, Qt.ItemDataRole.ToolTipRole)
    assert queue.tag_filter.findText("red") > 0 and queue.tag_filter.itemText(0) == "All tags"
    assert queue.view.accessibleName() and queue.accept_button.accessibleName()

    first, second = queue.model.items[0], queue.model.items[1]
    review_and_reload(qtbot, queue, lambda: qtbot.keyClick(queue.view, Qt.Key.Key_A))
    assert library.tags.labelled_photos(True) == {first.tag: [first.photo_id]}
    assert queue.model.items[0] == second and queue.view.currentIndex().row() == 0  # the next one is current
    assert queue.count_label.text() == "11 suggestions waiting"

    review_and_reload(qtbot, queue, lambda: qtbot.keyClick(queue.view, Qt.Key.Key_R))
    assert library.tags.labelled_photos(False) == {second.tag: [second.photo_id]}
    assert second.photo_id not in library.tagged_photo_ids(second.tag)
    assert shown_pairs(queue) == expected - {(first.photo_id, first.tag), (second.photo_id, second.tag)}


def test_bulk_review_of_the_selection_and_of_everything_shown(
    qtbot: QtBot, queue: ReviewQueue, library: Library
) -> None:
    selection = queue.view.selectionModel()
    picked = [queue.model.items[row] for row in (1, 3, 4)]
    selection.clearSelection()
    for row in (1, 3, 4):
        selection.select(queue.model.index(row), selection.SelectionFlag.Select)
    review_and_reload(qtbot, queue, queue.reject_button.click)
    rejected = library.tags.labelled_photos(False)
    assert sorted((p, t) for t, ids in rejected.items() for p in ids) == sorted((i.photo_id, i.tag) for i in picked)
    assert queue.model.rowCount() == 9 and queue.count_label.text() == "9 suggestions waiting"

    left = shown_pairs(queue)
    review_and_reload(qtbot, queue, queue.accept_all_button.click)
    accepted = library.tags.labelled_photos(True)
    assert {(p, t) for t, ids in accepted.items() for p in ids} == left
    assert queue.model.rowCount() == 0 and queue.count_label.text() == "Nothing waiting for review."
    assert library.tags.review_count() == 0


def test_reviewed_items_make_room_for_the_next_ones(
    qtbot: QtBot, runner: TaskRunner, thumbnails: ThumbnailCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review_queue, "PAGE", 5)
    queue = ReviewQueue(runner, thumbnails)
    qtbot.addWidget(queue)
    with qtbot.waitSignal(queue.loaded, timeout=WAIT_MS):
        queue.show()
    assert queue.model.rowCount() == 5 and queue.count_label.text() == "12 suggestions waiting"
    first = shown_pairs(queue)
    review_and_reload(qtbot, queue, queue.reject_all_button.click)
    assert queue.model.rowCount() == 5 and not shown_pairs(queue) & first  # the next five moved up
    assert queue.count_label.text() == "7 suggestions waiting"


def test_the_queue_for_one_tag(qtbot: QtBot, queue: ReviewQueue, library: Library, photos: Path) -> None:
    with qtbot.waitSignal(queue.loaded, timeout=WAIT_MS):
        queue.review("green")
    assert shown_pairs(queue) == {(p, "green") for p in ids_of(library, photos / "green")}
    assert queue.tag_filter.currentText() == "green" and queue.count_label.text() == "4 suggestions waiting"
    with qtbot.waitSignal(queue.loaded, timeout=WAIT_MS):
        queue.tag_filter.setCurrentIndex(0)
        queue.tag_filter.activated.emit(0)  # as when the user picks "All tags"
    assert queue.model.rowCount() == 12 and queue.tag is None
    queue.close_button.click()
    assert not queue.isVisible()


def test_a_new_tag_with_examples_then_filters_searches(qtbot: QtBot, library: Library, photos: Path) -> None:
    red = red_ids(library, photos)
    dialog = NewTagDialog(sync_runner(library), red[:2])
    qtbot.addWidget(dialog)
    assert dialog.group.count() > 1  # the groups in use
    assert dialog.group.currentText() == "Custom" and "2 photos" in dialog.examples.text()
    dialog.name.setText("Crimson")
    dialog.prompts.setPlainText("red\n\na photo of red\n")
    dialog.group.setEditText("Colours")
    added: list[str] = []
    dialog.tag_added.connect(added.append)
    dialog.create_button.click()
    assert added == ["crimson"] and dialog.result() == NewTagDialog.DialogCode.Accepted.value
    tag = library.tags.tag("crimson")
    assert tag.prompts == ("red", "a photo of red") and tag.group == "Colours" and tag.examples == tuple(red[:2])
    assert {hit.photo_id for hit in library.search("tag:crimson").hits} == set(red)
    assert set(red[:2]) <= set(library.tags.labelled_photos(True)["crimson"])


def test_a_new_tag_that_cannot_be_made_says_why(qtbot: QtBot, runner: TaskRunner) -> None:
    dialog = NewTagDialog(runner)
    qtbot.addWidget(dialog)
    assert "select a few photos" in dialog.examples.text()
    for name, prompts, why in (("red", "crimson", "already"), ("kayak", "  \n", "needs at least one prompt")):
        dialog.name.setText(name)
        dialog.prompts.setPlainText(prompts)
        dialog.create_button.click()
        assert not dialog.name.isEnabled()  # busy until the catalog answers
        qtbot.waitUntil(lambda why=why: why in dialog.message.text(), timeout=WAIT_MS)
        assert dialog.name.isEnabled() and dialog.result() == 0


@pytest.fixture
def graded(home: Path, tmp_path: Path) -> Iterator[Library]:
    """Greys with a little noise in red, then greys ever redder: "red" scores spread like a real tag's."""
    rng = np.random.default_rng(0)
    for i, offset in enumerate([*np.round(rng.normal(0, 1.5, 60)).astype(int), *range(2, 17), *range(2, 17)]):
        make_photo(tmp_path / "mixed" / f"{i}.jpg", (128 + int(offset), 128, 128))
    lib = open_tag_library(home)
    lib.tags.add("red", ["red"])
    lib.add_folder(tmp_path / "mixed")
    lib.scan()
    lib.index()
    yield lib
    lib.close()


def test_sensitivity_steps_tag_fewer_or_more_photos(qtbot: QtBot, graded: Library) -> None:
    dialog = SensitivityDialog(sync_runner(graded), "red")
    qtbot.addWidget(dialog)
    assert dialog.slider.isEnabled()
    calibrated = len(graded.tagged_photo_ids("red"))
    assert dialog.slider.value() == 0 and dialog.count.text().startswith(f"{calibrated} photos")
    counts = {}
    changed: list[tuple[str, int]] = []
    dialog.sensitivity_changed.connect(lambda name, level: changed.append((name, level)))
    for level in (-2, 2):
        dialog.slider.setValue(level)
        assert changed[-1] == ("red", level) and graded.tags.tag("red").sensitivity == level
        counts[level] = len(graded.tagged_photo_ids("red"))
        assert dialog.count.text().startswith(f"{counts[level]} photos")
    assert counts[-2] < calibrated < counts[2]


def test_the_chip_menu_offers_sensitivity(qtbot: QtBot, runner: TaskRunner, library: Library, photos: Path) -> None:
    chips = TagChips(runner)
    qtbot.addWidget(chips)
    show_photo(qtbot, chips, red_ids(library, photos)[0])
    menu = chips.menu("red")
    assert isinstance(menu, QMenu) and menu.accessibleName() == "Tag red"
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == ["Find photos tagged “red”", "Accept", "Reject (this photo does not show it)", "Sensitivity…"]
