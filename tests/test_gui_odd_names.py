"""A photo whose file name is not valid UTF-8 (a Latin-1 `caf\\xe9.jpg` from an old archive) in the window:
the viewer decodes it and shows its name readably, and opening, copying and exporting it reach the file
itself. Qt drops the surrogates that stand for such bytes, so the name showed as "caf.jpg"."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from conftest import Opened, make_photo
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot
from test_gui import WAIT_MS, make_window, search
from test_library import open_library

from photosift.app.gui.dialogs.failures import FailuresDialog
from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.readable import readable_path
from photosift.core.library import Library

pytestmark = pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="these file systems insist on Unicode")


@pytest.fixture
def odd(tmp_path: Path) -> Path:
    """`café.jpg` named in Latin-1 (the byte 0xE9), red, beside a green photo with an ordinary name."""
    make_photo(tmp_path / "photos" / "plain.jpg", "green")
    return make_photo(Path(os.fsdecode(os.fsencode(tmp_path / "photos") + b"/caf\xe9.jpg")), "red")


@pytest.fixture
def library(home: Path, odd: Path) -> Iterator[Library]:
    library = open_library(home)
    library.add_folder(odd.parent)
    library.scan()
    library.index()
    yield library
    library.close()


@pytest.fixture
def window(qtbot: QtBot, library: Library) -> Iterator[tuple[MainWindow, Opened]]:
    win, runner, opened = make_window(qtbot, library)
    yield win, opened
    runner.shutdown()
    win.parts.thumbnails.wait()


def file_bytes(url: QUrl) -> bytes:
    """The exact path a file:// URL names, as bytes (QUrl's own toLocalFile decodes it as UTF-8)."""
    return unquote_to_bytes(
        bytes(url.toEncoded(QUrl.ComponentFormattingOption.FullyEncoded)).decode()[len("file://") :]
    )


def test_readable_path_reads_escaped_bytes_as_windows_1252() -> None:
    assert readable_path(os.fsdecode(b"/old/caf\xe9 \x80.jpg")) == "/old/café €.jpg"
    assert readable_path(os.fsdecode(b"/old/\x81.jpg")) == "/old/\ufffd.jpg"  # no character in Windows-1252
    assert readable_path("/new/café.jpg") == "/new/café.jpg"


def test_the_viewer_shows_a_latin1_name_readably_and_opens_it(
    qtbot: QtBot, window: tuple[MainWindow, Opened], odd: Path
) -> None:
    win, opened = window
    assert search(qtbot, win, "red")[0] == str(odd)
    win.parts.results_model.give_tooltip(0)  # the grid's name and tooltip too (they said "caf.jpg")
    item = win.parts.results_model.item(0)
    assert item.text() in ("", "café.jpg") and item.toolTip().startswith(str(odd.parent / "café.jpg"))
    assert item.data(Qt.ItemDataRole.AccessibleTextRole).startswith("café.jpg")
    photo_id, viewer = win.parts.results_model.hit(0).photo_id, win.parts.viewer
    with qtbot.waitSignal(viewer.image_shown, timeout=WAIT_MS, check_params_cb=lambda shown: shown == photo_id):
        win.open_viewer(0)  # image_shown: decoded from the odd path, not the "cannot be read" note
    assert viewer.windowTitle() == "café.jpg - Photosift"  # was "caf.jpg - Photosift"
    details = viewer.details
    assert details.name.text() == "café.jpg" and details.path.text() == str(odd.parent / "café.jpg")
    viewer.open_current()  # Enter in the viewer
    assert [file_bytes(url) for url in opened] == [os.fsencode(odd)]


def test_a_latin1_name_is_copied_and_exported_as_the_file_it_is(
    qtbot: QtBot, window: tuple[MainWindow, Opened], odd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win, _ = window
    search(qtbot, win, "red")
    menu = win.parts.photo_actions.menu([win.parts.results_model.hit(0)])
    actions = {a.text().replace("&", ""): a for a in menu.actions()}
    actions["Copy path"].trigger()
    assert QGuiApplication.clipboard().text() == str(odd.parent / "café.jpg")  # was ".../caf.jpg"

    win.parts.state.library.albums.create("Trip")
    win.parts.state.library.albums.add("Trip", [win.parts.results_model.hit(0).photo_id])
    target = tmp_path / "out" / "albums.json"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_: (str(target), "JSON files (*.json)"))
    export = next(a for a in win.findChildren(QAction) if a.text() == "&Export…")
    export.setEnabled(True)  # enabled when the Albums menu opens
    export.trigger()
    qtbot.waitUntil(lambda: "Exported 1 album to" in win.statusBar().currentMessage(), timeout=WAIT_MS)
    (album,) = json.loads(target.read_text(encoding="utf-8"))["albums"]
    assert [os.fsencode(path) for path in album["photos"]] == [os.fsencode(odd)]


def test_the_failures_dialog_names_a_latin1_file_readably(qtbot: QtBot, home: Path, tmp_path: Path) -> None:
    """Regression: the list of unreadable files showed `bad\\xe9.jpg` in a folder `f\\xeate` as ".../fte/bad.jpg"."""
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/f\xeate"))
    broken = Path(os.fsdecode(os.fsencode(folder) + b"/bad\xe9.jpg"))
    folder.mkdir()
    broken.write_bytes(b"not a JPEG at all")
    library = open_library(home)
    try:
        library.add_folder(folder)
        library.scan()
        library.index()
        failures = library.failures(folder)
    finally:
        library.close()
    dialog = FailuresDialog(failures, folder=str(folder))
    qtbot.addWidget(dialog)
    ((path, _),) = dialog.rows()
    assert path == str(tmp_path / "fête" / "badé.jpg")  # was ".../fte/bad.jpg"
    assert dialog.table.item(0, 0).toolTip() == path and dialog.windowTitle() == "Unreadable files in fête"
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text().splitlines()[1].startswith(f"{path}\t")
