"""Where the file dialogs open: the platform's folder for what is chosen, not the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from photosift.app.gui.dialogs.get_model import ask_model_file
from photosift.app.gui.dialogs.settings import choose_folder_dialog
from photosift.app.gui.finetune.captions_page import ask_caption_file
from photosift.app.gui.start_folders import documents_folder, downloads_folder, in_documents, pictures_folder


def test_each_chooser_opens_where_what_it_asks_for_is_kept(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    opened_in: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *args: opened_in.append(args[2]) or ("", ""))
    )
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *args: opened_in.append(args[2]) or "")
    )
    parent = QWidget()
    qtbot.addWidget(parent)
    assert ask_model_file(parent) is None and ask_caption_file(parent) is None and choose_folder_dialog(parent) == ""
    assert opened_in == [downloads_folder(), documents_folder(), pictures_folder()]
    assert all(folder and Path(folder).is_absolute() and folder != str(Path.cwd()) for folder in opened_in)
    assert in_documents("albums.json") == str(Path(documents_folder()) / "albums.json")


def test_a_missing_standard_folder_opens_the_nearest_folder_above_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))  # no user-dirs file: the standard names
    assert pictures_folder() == documents_folder() == str(tmp_path)  # a new account without them yet
    (tmp_path / "Pictures").mkdir()
    assert pictures_folder() == str(tmp_path / "Pictures")
