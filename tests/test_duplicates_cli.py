"""`photosift duplicates`: find, list (text and --json), keep, mark and export, on a library whose fake
encoder makes photos of one colour near-duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_photo
from test_library import open_library

from photosift.app.cli import duplicates as cli
from photosift.app.cli import run
from photosift.core.library import Library
from photosift.core.protocol import EXIT_OK, EXIT_USER


@pytest.fixture
def photos(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "photos"
    make_photo(folder / "red-big.jpg", "red", (128, 96))
    make_photo(folder / "red-small.jpg", "red")
    make_photo(folder / "blue.jpg", "blue")
    library = open_library(home)
    library.add_folder(folder)
    library.scan()
    library.index()
    library.close()

    def fake_open(*_: object) -> Library:
        return open_library(home)  # the fake encoder's library, as `photosift` would open the selected model's

    monkeypatch.setattr(cli, "open_library", fake_open)
    return folder


def test_find_list_keep_and_export(photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["duplicates", "find"]) == EXIT_OK
    assert "Found 1 group of near-duplicates among 3 photos" in capsys.readouterr().out
    assert run(["duplicates"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "Group 1 (2 photos, suggested)" in text
    assert text.index("keep") < text.index("red-big.jpg") < text.index("duplicate") < text.index("red-small.jpg")
    assert run(["duplicates", "list", "--json"]) == EXIT_OK
    (group,) = json.loads(capsys.readouterr().out)
    small = next(m["photo_id"] for m in group["members"] if m["path"].endswith("red-small.jpg"))
    assert run(["duplicates", "keep", str(group["id"]), f"#{small}"]) == EXIT_OK
    assert f"Keeping #{small}" in capsys.readouterr().out
    assert run(["duplicates", "list", "--json"]) == EXIT_OK
    (group,) = json.loads(capsys.readouterr().out)
    assert group["reviewed"] and group["members"][0]["photo_id"] == small
    out = tmp_path / "dups.json"
    assert run(["duplicates", "list", "--export", str(out)]) == EXIT_OK
    assert json.loads(out.read_text(encoding="utf-8"))["groups"][0]["keep"] == [str(photos / "red-small.jpg")]


def test_export_into_a_photo_folder_is_refused(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["duplicates", "find"]) == EXIT_OK
    assert run(["duplicates", "list", "--export", str(photos / "dups.json")]) == EXIT_USER
    assert "never writes into photo folders" in capsys.readouterr().err
    assert not (photos / "dups.json").exists()


def test_unmark_and_an_empty_listing(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["duplicates", "list"]) == EXIT_OK
    assert "run `photosift duplicates find` first" in capsys.readouterr().out
    assert run(["duplicates", "find"]) == EXIT_OK
    assert run(["duplicates", "unmark", str(photos / "red-small.jpg")]) == EXIT_OK
    assert "Marked 1 photo as not duplicates" in capsys.readouterr().out
    assert run(["duplicates", "list", "--json"]) == EXIT_OK
    assert not any(m["duplicate"] for m in json.loads(capsys.readouterr().out)[0]["members"])
