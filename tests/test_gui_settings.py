"""The Settings dialog edits copies of the settings and GUI preferences (OK gives new values, Cancel the
old ones); preferences persist and survive a damaged file; the shortcuts help reads the window's actions;
themes force a light or dark palette and "system" gives the platform's back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_MODELS
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QMainWindow,
    QSlider,
    QSpinBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from photosift.app.gui.dialogs.settings import SWITCH_NOTE, SettingsDialog
from photosift.app.gui.dialogs.shortcuts import GROUP_PROPERTY, ShortcutsDialog, gather_shortcuts
from photosift.app.gui.prefs import PREFS_FILE, THUMBNAIL_DEFAULT, GuiPrefs, apply_theme, load_prefs, save_prefs
from photosift.core.models.card import model_card
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec, load_spec
from photosift.core.settings import Paths, Settings, load_settings, save_settings

NATIVE = QKeySequence.SequenceFormat.NativeText


class Chooser(list[str]):
    """A fake folder dialog: answers with the queued folders in turn ("" is a cancel)."""

    def __call__(self, parent: QWidget) -> str:
        return self.pop(0)


@pytest.fixture
def specs() -> list[ModelSpec]:
    return [load_spec(TEST_MODELS / "tiny.json"), load_spec(TEST_MODELS / "tiny-wide.json")]


def open_dialog(
    qtbot: QtBot,
    specs: list[ModelSpec],
    settings: Settings | None = None,
    prefs: GuiPrefs | None = None,
    chooser: Chooser | None = None,
) -> SettingsDialog:
    dialog = SettingsDialog(
        settings or Settings(), prefs or GuiPrefs(), specs, ["cpu", "cuda"], choose_folder=chooser or Chooser()
    )
    qtbot.addWidget(dialog)
    return dialog


def press(qtbot: QtBot, dialog: SettingsDialog, button: QDialogButtonBox.StandardButton) -> None:
    signal = dialog.accepted if button == QDialogButtonBox.StandardButton.Ok else dialog.rejected
    with qtbot.waitSignal(signal):
        dialog.button_box.button(button).click()


def select(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)


def test_ok_gives_every_changed_field(
    qtbot: QtBot, specs: list[ModelSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    layout = GuiPrefs(window_geometry=b"\x01geometry", window_state=b"\x00state", splitter_state=b"split")
    dialog = open_dialog(qtbot, specs, prefs=layout, chooser=Chooser(["photos/raw/"]))
    select(dialog.model_combo, "tiny-wide")
    select(dialog.device_combo, "cuda")
    dialog.workers_spin.setValue(3)
    dialog.batch_spin.setValue(64)
    select(dialog.cpu_runtime_combo, "int8")
    dialog.add_excluded_button.click()
    dialog.polling_radio.click()
    dialog.thumbnail_slider.setValue(240)
    select(dialog.theme_combo, "dark")
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.settings() == Settings(
        model="tiny-wide",
        device="cuda",
        decode_workers=3,
        batch_size=64,
        cpu_runtime="int8",
        excluded_folders=(str(tmp_path / "photos" / "raw"),),
        watch_polling=True,
    )
    assert dialog.prefs() == GuiPrefs(240, b"\x01geometry", b"\x00state", b"split", "dark")


def test_cancel_gives_the_originals(qtbot: QtBot, specs: list[ModelSpec]) -> None:
    settings = Settings(model="tiny", decode_workers=2, excluded_folders=("/photos/tmp",))
    prefs = GuiPrefs(thumbnail_size=128, theme="light")
    dialog = open_dialog(qtbot, specs, settings, prefs)
    select(dialog.model_combo, None)
    dialog.workers_spin.setValue(9)
    dialog.excluded_list.clear()
    dialog.thumbnail_spin.setValue(300)
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Cancel)
    assert dialog.settings() is settings and dialog.prefs() is prefs


def test_ok_without_changes_keeps_values_the_dialog_does_not_offer(qtbot: QtBot, specs: list[ModelSpec]) -> None:
    """A removed model or an unplugged GPU stays chosen instead of silently becoming something else."""
    settings = Settings(model="removed-model", device="mps", decode_workers=4, batch_size=8)
    dialog = open_dialog(qtbot, specs, settings, GuiPrefs(thumbnail_size=96))
    assert "removed-model" in dialog.model_combo.currentText()
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.settings() == settings and dialog.prefs() == GuiPrefs(thumbnail_size=96)


def test_restore_defaults_resets_the_fields_but_not_the_window_layout(qtbot: QtBot, specs: list[ModelSpec]) -> None:
    settings = Settings(
        model="tiny",
        device="cpu",
        cpu_runtime="torch",
        decode_workers=5,
        batch_size=32,
        excluded_folders=("/x",),
        watch_polling=True,
    )
    prefs = GuiPrefs(thumbnail_size=288, window_geometry=b"geo", theme="dark")
    dialog = open_dialog(qtbot, specs, settings, prefs)
    dialog.restore_defaults_button.click()
    assert dialog.excluded_list.count() == 0 and dialog.native_radio.isChecked()
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.settings() == Settings()
    assert dialog.prefs() == GuiPrefs(window_geometry=b"geo")


def test_excluded_folders_are_added_absolute_once_and_removed(
    qtbot: QtBot, specs: list[ModelSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    chooser = Chooser(["a", "", str(tmp_path / "a"), "b/../c"])
    dialog = open_dialog(qtbot, specs, chooser=chooser)
    assert not dialog.remove_excluded_button.isEnabled()
    for _ in range(4):  # a, a cancel, a again (kept once), and c
        dialog.add_excluded_button.click()
    folders = [dialog.excluded_list.item(i).text() for i in range(dialog.excluded_list.count())]
    assert folders == [str(tmp_path / "a"), str(tmp_path / "c")] and not chooser
    dialog.excluded_list.setCurrentRow(0)
    assert dialog.remove_excluded_button.isEnabled()
    dialog.remove_excluded_button.click()
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.settings().excluded_folders == (str(tmp_path / "c"),)


def test_the_model_note_describes_the_choice_and_the_background_switch(qtbot: QtBot, specs: list[ModelSpec]) -> None:
    dialog = open_dialog(qtbot, specs)
    assert "default model" in dialog.model_info.text()
    select(dialog.model_combo, "tiny-wide")
    assert "tiny-wide-arch, its own weights." in dialog.model_info.text() and SWITCH_NOTE in dialog.model_info.text()
    assert [dialog.model_combo.itemText(i) for i in (1, 2)] == [spec.title for spec in specs]


def test_a_model_from_a_spec_file_is_named_by_its_title(qtbot: QtBot, specs: list[ModelSpec]) -> None:
    """Regression: a model chosen as a spec file read "…/tiny.json (not installed)"."""
    tiny = specs[0]
    dialog = SettingsDialog(Settings(model=str(tiny.path)), GuiPrefs(), specs[1:], ["cpu"], current=tiny)
    qtbot.addWidget(dialog)
    assert dialog.model_combo.currentText() == tiny.title and dialog.model_combo.currentData() == str(tiny.path)
    assert "In use now." in dialog.model_info.text() and "not installed" not in dialog.model_combo.currentText()


def test_a_model_never_downloaded_is_not_called_ready(qtbot: QtBot, home: Path) -> None:
    registry = ModelRegistry(Paths.default())
    metaclip = registry.resolve("vit-b-32-metaclip")
    dialog = SettingsDialog(Settings(), GuiPrefs(), registry.specs(), ["cpu"], current=metaclip, current_ready=False)
    qtbot.addWidget(dialog)
    index = dialog.model_combo.findData("vit-b-32-metaclip")
    assert dialog.model_combo.itemText(index) == model_card(metaclip).title != metaclip.title  # plain words
    dialog.model_combo.setCurrentIndex(index)
    assert "not on this computer yet" in dialog.model_info.text()
    assert "embeddings" not in dialog.model_info.text() and " mb" not in dialog.model_info.text().lower()


def test_every_input_is_named_and_labelled_for_the_keyboard(qtbot: QtBot, specs: list[ModelSpec]) -> None:
    dialog = open_dialog(qtbot, specs)
    inputs = [w for kind in (QComboBox, QSpinBox, QSlider, QListWidget) for w in dialog.findChildren(kind)]
    buttons = [b for b in dialog.findChildren(QAbstractButton) if b.parent() is not dialog.button_box]
    assert len(inputs) == 10 and len(buttons) == 4
    assert all(widget.accessibleName() for widget in [*inputs, *buttons])
    buddies = {label.buddy() for label in dialog.findChildren(QLabel) if label.buddy() is not None}
    unlabelled = [w.accessibleName() for w in inputs if w not in buddies and w is not dialog.thumbnail_spin]
    assert unlabelled == []  # the pixel spin box sits beside the slider its label names
    assert all("&" in label.text() for label in dialog.findChildren(QLabel) if label.buddy() is not None)


def test_settings_and_prefs_round_trip(home: Path) -> None:
    paths = Paths.default()
    assert load_prefs(paths) == GuiPrefs()  # no file yet
    settings = Settings(model="tiny", device="cpu", decode_workers=2, batch_size=16, excluded_folders=("/p/x",))
    prefs = GuiPrefs(200, b"\x00\xffgeo", None, b"\x01split", "dark")
    save_settings(paths, settings)
    save_prefs(paths, prefs)
    assert load_settings(paths) == settings and load_prefs(paths) == prefs
    assert not list(paths.root.glob("*.tmp"))


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\udcff", '{"thumbnail_size": "big", "theme": 3}'])
def test_damaged_prefs_load_as_defaults(home: Path, content: str) -> None:
    paths = Paths.default()
    paths.root.mkdir(parents=True)
    (paths.root / PREFS_FILE).write_bytes(content.encode("utf-8", "surrogateescape"))
    assert load_prefs(paths) == GuiPrefs()


def test_one_bad_pref_keeps_the_others(home: Path) -> None:
    paths = Paths.default()
    paths.root.mkdir(parents=True)
    raw = {"thumbnail_size": 5000, "theme": "dark", "window_geometry": "%%not base64", "window_state": "AAE="}
    (paths.root / PREFS_FILE).write_text(json.dumps(raw))
    assert load_prefs(paths) == GuiPrefs(THUMBNAIL_DEFAULT, None, b"\x00\x01", None, "dark")


def test_gather_shortcuts_reads_the_window_actions(qtbot: QtBot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    menu = window.menuBar().addMenu("&File")
    menu.addAction(QAction("&Add folder…", window, shortcut=QKeySequence("Ctrl+O")))
    menu.addAction("&Save && quit").setShortcut(QKeySequence("Ctrl+Shift+Q"))
    menu.addAction("No shortcut")
    find = QAction("Find", window, shortcut=QKeySequence(QKeySequence.StandardKey.Find))
    window.addAction(find)
    find.setProperty(GROUP_PROPERTY, "Search")
    shortcuts = gather_shortcuts(window)
    assert shortcuts == [
        ("Library", "Add folder…", QKeySequence("Ctrl+O").toString(NATIVE)),
        ("Library", "Save & quit", QKeySequence("Ctrl+Shift+Q").toString(NATIVE)),
        ("Search", "Find", QKeySequence(QKeySequence.StandardKey.Find).toString(NATIVE)),
    ]
    dialog = ShortcutsDialog([*shortcuts, ("Viewer", "Next", "Space"), ("Viewer", "Next", "Right")])
    qtbot.addWidget(dialog)
    table = dialog.table
    cells = [
        [table.item(row, col).text() if table.item(row, col) else "" for col in (0, 1)]
        for row in range(table.rowCount())
    ]  # type: ignore[union-attr]
    assert cells == [
        ["Search", ""],
        ["Find", shortcuts[2][2]],
        ["Viewer", ""],
        ["Next", "Space, Right"],
        ["Library", ""],
        ["Add folder…", shortcuts[0][2]],
        ["Save & quit", shortcuts[1][2]],
    ]


@pytest.fixture
def app_theme(qapp: QApplication, qtbot: QtBot) -> Iterator[QWidget]:
    """A window to look at; the app's theme is back to "system" afterwards, for the tests that follow."""
    window = QMainWindow()
    qtbot.addWidget(window)
    yield window
    apply_theme(qapp, "system")


def window_lightness(widget: QWidget) -> int:
    return widget.palette().color(QPalette.ColorRole.Window).lightness()


def test_themes_force_dark_and_light_and_system_restores(qapp: QApplication, qtbot: QtBot, app_theme: QWidget) -> None:
    system = app_theme.palette().color(QPalette.ColorRole.Window)
    apply_theme(qapp, "dark")
    qtbot.waitUntil(lambda: window_lightness(app_theme) < 100)
    apply_theme(qapp, "light")
    qtbot.waitUntil(lambda: window_lightness(app_theme) > 180)
    apply_theme(qapp, "dark")
    qtbot.waitUntil(lambda: window_lightness(app_theme) < 100)
    apply_theme(qapp, "system")
    qtbot.waitUntil(lambda: app_theme.palette().color(QPalette.ColorRole.Window) == system)
    with pytest.raises(ValueError, match="theme"):
        apply_theme(qapp, "sepia")
