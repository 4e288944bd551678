"""Dialogs that define, give and tune tags: a new custom tag (name, prompts, group, example photos), an
existing tag given to (or taken from) the selected photos, and one tag's sensitivity, with the number of
photos it then tags shown as the slider moves.

The window opens them through `open_new_tag_dialog`, `open_label_dialog` and `open_sensitivity_dialog`
(window-modal, deleted when closed); each writes through the runner's writer and says what it stored by
signal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from photosift.app.gui.presenter import shown_in_place
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library
from photosift.core.progress import CancelToken, ProgressCallback
from photosift.core.tags.calibration import SENSITIVITY_RANGE
from photosift.core.tags.records import TagInfo
from photosift.core.tags.vocabulary import CUSTOM_GROUP
from photosift.core.wording import plural

T = TypeVar("T")
PROMPT_HINT = "One description per line, e.g.\na red kayak\na kayak on a lake"


def _while_alive(widget: QWidget, callback: Callable[[T], None]) -> Callable[[T], None]:
    """`callback`, skipped once `widget` was deleted (an op can finish after its dialog was closed)."""
    return lambda value: callback(value) if shiboken6.isValid(widget) else None


def _user_errors(widget: QWidget, show: Callable[[str], None], runner: TaskRunner) -> Callable[[BaseException], None]:
    """An op's error handler: a failure's sentence is shown in the dialog while it is open; a bug goes to
    the runner's presenter."""
    return shown_in_place(lambda sentence: show(sentence) if shiboken6.isValid(widget) else None, runner.present)


class NewTagDialog(QDialog):
    """Name, prompts and group of a custom tag; the selected photos, if any, become its examples.

    Creating it scores it over the whole library (text model work for its prompts only), so the tag can
    be searched with tag:NAME as soon as `tag_added` is emitted.
    """

    tag_added = Signal(str)  # the new tag's name, as stored (lower case)

    def __init__(self, runner: TaskRunner, example_ids: Sequence[int] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.example_ids = tuple(dict.fromkeys(example_ids))
        self._busy = False
        self.setWindowTitle("New tag")
        self.name = QLineEdit(placeholderText="e.g. kayak")
        self.name.setAccessibleName("Tag name")
        self.prompts = QPlainTextEdit(placeholderText=PROMPT_HINT)
        self.prompts.setAccessibleName("Prompts")
        self.prompts.setAccessibleDescription("Phrases that describe the tag, one per line")
        self.prompts.setTabChangesFocus(True)
        self.group = QComboBox(editable=True)
        self.group.setAccessibleName("Group")
        self.group.setEditText(CUSTOM_GROUP)
        self.examples = QLabel(_examples_text(len(self.example_ids)), wordWrap=True)
        self.examples.setAccessibleName("Example photos")
        self.message = QLabel(wordWrap=True)
        self.message.setAccessibleName("Message")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton("Create tag", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.create_tag)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Prompts:", self.prompts)
        form.addRow("Group:", self.group)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for widget in (self.examples, self.message, self.buttons):
            layout.addWidget(widget)
        runner.run_op(
            lambda lib: _groups(lib), _while_alive(self, self._show_groups), _user_errors(self, self._say, runner)
        )

    def _show_groups(self, groups: list[str]) -> None:
        typed = self.group.currentText()
        self.group.addItems(groups)
        self.group.setEditText(typed)

    def create_tag(self) -> None:
        """Store the tag and score it (in the background); the dialog closes once it is done."""
        name, group = self.name.text(), self.group.currentText().strip() or None
        prompts, examples = self.prompts.toPlainText().splitlines(), self.example_ids

        def add(lib: Library, progress: ProgressCallback, _cancel: CancelToken) -> TagInfo:
            return lib.tags.add(name, prompts, group, examples, progress)

        self._set_busy(True)
        self._say("Creating the tag and finding its photos…")
        self.runner.run_long_op(
            add, _while_alive(self, self._created), _user_errors(self, self._not_created, self.runner)
        )

    def _created(self, tag: TagInfo) -> None:
        self._set_busy(False)
        self.tag_added.emit(tag.name)
        self.accept()

    def _not_created(self, message: str) -> None:
        self._set_busy(False)
        self._say(message)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in (self.name, self.prompts, self.group, self.buttons):
            widget.setEnabled(not busy)

    def _say(self, message: str) -> None:
        self.message.setText(message)

    def reject(self) -> None:
        """Cancel, unless the tag is being created (it cannot be stopped half way; it takes seconds)."""
        if not self._busy:
            super().reject()


def _groups(lib: Library) -> list[str]:
    """The tag groups in use, "Custom" first (where user tags go by default)."""
    groups = dict.fromkeys(t.group for t in lib.tags.tags())
    return [CUSTOM_GROUP, *(g for g in groups if g != CUSTOM_GROUP)]


def _examples_text(count: int) -> str:
    if not count:
        return "Tip: select a few photos that show it before creating a tag: they sharpen it."
    photos = "photo sharpens" if count == 1 else f"{count} photos sharpen"
    return f"The selected {photos} the tag, and {'is' if count == 1 else 'are'} labelled with it."


class LabelDialog(QDialog):
    """Label the selected photos with an existing tag: they carry it (`accepted`), or never carry it (not).

    The labels are the user's word, as a tag chip's Accept and Reject are: automatic tagging never changes
    them, and fine-tuning on tags trains on the accepted ones, which is why many photos are labelled at
    once here. The field completes the library's tag names, `first` (the tags labelled lately) on top; a
    name that is no tag is said in the dialog, with the close ones, and the dialog stays open.
    """

    labelled = Signal(str, int)  # the tag's name as stored, how many photos were labelled

    def __init__(
        self,
        runner: TaskRunner,
        photo_ids: Sequence[int],
        accepted: bool = True,
        first: Sequence[str] = (),
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.runner, self.giving = runner, accepted
        self.photo_ids = tuple(dict.fromkeys(photo_ids))
        self._first = list(first)
        count, photos = len(self.photo_ids), plural(len(self.photo_ids), "photo")
        self.setWindowTitle(f"Tag {photos}" if accepted else f"Remove a tag from {photos}")
        selected = "the selected photo" if count == 1 else f"the {count:,} selected photos"
        intro = (
            f"Tag {selected} with:"
            if accepted
            else f"{selected.capitalize()} will not carry this tag, automatically or otherwise:"
        )
        self.name = QComboBox(editable=True)
        self.name.setAccessibleName("Tag")
        self.name.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.name.setMinimumContentsLength(32)  # wide enough for the longest built-in tag names
        completer = QCompleter(self.name.model(), self)  # any part of a name, in any case
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.name.setCompleter(completer)
        self.message = QLabel(wordWrap=True)
        self.message.setAccessibleName("Message")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        verb = "Tag" if accepted else "Remove tag"
        self.ok_button = self.buttons.addButton(verb, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.store)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (QLabel(intro, wordWrap=True), self.name, self.message, self.buttons):
            layout.addWidget(widget)
        self._suggest(self._first[0] if self._first else "")
        runner.run_op(
            lambda lib: [t.name for t in lib.tags.tags()],
            _while_alive(self, self._show_names),
            _user_errors(self, self.message.setText, runner),
        )

    def _show_names(self, names: list[str]) -> None:
        typed = self.name.currentText()
        known = set(names)
        self.name.addItems([*(n for n in self._first if n in known), *(n for n in names if n not in self._first)])
        self._suggest(typed)

    def _suggest(self, name: str) -> None:
        """Put `name` in the field, selected, so that typing replaces it and Enter takes it."""
        self.name.setEditText(name)
        if (field := self.name.lineEdit()) is not None:
            field.selectAll()

    def store(self) -> None:
        """Store the label for every photo (in the background); the dialog closes once it is stored."""
        wanted, ids, accepted = self.name.currentText().strip(), self.photo_ids, self.giving
        if not wanted:
            self.message.setText("Type the name of a tag.")
            return

        def label(lib: Library) -> tuple[str, int]:
            name = lib.tags.tag(wanted).name  # the stored spelling; QueryError with close names if none
            pairs = [(photo_id, name) for photo_id in ids]
            return name, lib.tags.accept(pairs) if accepted else lib.tags.reject(pairs)

        self.buttons.setEnabled(False)
        self.runner.run_op(
            label, _while_alive(self, self._stored), _user_errors(self, self._not_stored, self.runner), writes=True
        )

    def _stored(self, stored: tuple[str, int]) -> None:
        self.labelled.emit(*stored)
        self.accept()

    def _not_stored(self, message: str) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(message)


class SensitivityDialog(QDialog):
    """A slider from fewer photos (-2) to more photos (+2) for one tag; each step is stored at once and
    the number of photos the tag then carries is shown."""

    sensitivity_changed = Signal(str, int)  # tag name, the level now stored

    def __init__(self, runner: TaskRunner, tag_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner, self.tag_name = runner, tag_name
        self._seq = 0  # bumped per write: only the latest count is shown
        self.setWindowTitle(f"Sensitivity of “{tag_name}”")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setAccessibleName("Sensitivity")
        self.slider.setAccessibleDescription("Lower tags fewer photos automatically, higher tags more")
        self.slider.setRange(*SENSITIVITY_RANGE)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setEnabled(False)  # until the stored level arrives
        self.count = QLabel("…")
        self.count.setAccessibleName("Photos tagged")
        self.message = QLabel(wordWrap=True)
        self.message.setAccessibleName("Message")
        ends = QHBoxLayout()
        ends.addWidget(QLabel("Fewer photos"))
        ends.addStretch(1)
        ends.addWidget(QLabel("Calibrated"))
        ends.addStretch(1)
        ends.addWidget(QLabel("More photos"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"How readily “{tag_name}” is given to photos automatically. Your own labels stay."))
        layout.addWidget(self.slider)
        layout.addLayout(ends)
        for widget in (self.count, self.message, buttons):
            layout.addWidget(widget)
        self.resize(420, self.sizeHint().height())
        self.slider.valueChanged.connect(self.set_level)
        runner.run_op(lambda lib: _level_and_count(lib, tag_name), _while_alive(self, self._loaded), self._failed())

    def _loaded(self, found: tuple[int, int]) -> None:
        level, count = found
        self.slider.blockSignals(True)  # the stored level, not a change to store
        self.slider.setValue(level)
        self.slider.blockSignals(False)
        self.slider.setEnabled(True)
        self._show_count(count)

    def set_level(self, level: int) -> None:
        """Store `level` for the tag, then show how many photos it carries."""
        self._seq += 1
        seq, name = self._seq, self.tag_name

        def store(lib: Library) -> tuple[int, int]:
            lib.tags.set_sensitivity(name, level)
            return _level_and_count(lib, name)

        def stored(found: tuple[int, int]) -> None:
            self.sensitivity_changed.emit(name, found[0])
            if seq == self._seq:
                self._show_count(found[1])

        self.runner.run_op(store, _while_alive(self, stored), self._failed(), writes=True)

    def _show_count(self, count: int) -> None:
        self.count.setText(f"{count:,} photo{' carries' if count == 1 else 's carry'} this tag now.")

    def _failed(self) -> Callable[[BaseException], None]:
        return _user_errors(self, self.message.setText, self.runner)


def _level_and_count(lib: Library, name: str) -> tuple[int, int]:
    return lib.tags.tag(name).sensitivity, len(lib.tagged_photo_ids(name))


def open_new_tag_dialog(parent: QWidget, runner: TaskRunner, example_ids: Sequence[int] = ()) -> NewTagDialog:
    """Open the new-tag dialog (window-modal); connect to its `tag_added`."""
    return _open(NewTagDialog(runner, example_ids, parent))


def open_label_dialog(
    parent: QWidget, runner: TaskRunner, photo_ids: Sequence[int], accepted: bool = True, first: Sequence[str] = ()
) -> LabelDialog:
    """Open the dialog that gives `photo_ids` a tag (or takes it away); connect to its `labelled`."""
    return _open(LabelDialog(runner, photo_ids, accepted, first, parent))


def open_sensitivity_dialog(parent: QWidget, runner: TaskRunner, tag_name: str) -> SensitivityDialog:
    """Open the sensitivity dialog of `tag_name` (window-modal); connect to its `sensitivity_changed`."""
    return _open(SensitivityDialog(runner, tag_name, parent))


D = TypeVar("D", bound=QDialog)


def _open(dialog: D) -> D:
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
