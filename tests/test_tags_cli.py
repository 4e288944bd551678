"""`photosift tag` with the tiny real model: every action runs through app.cli.run, and errors read as
sentences with exit code 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TEST_MODELS, make_photo

from photosift.app.cli import run
from photosift.core.protocol import EXIT_OK, EXIT_USER

TINY = str(TEST_MODELS / "tiny.json")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    for i, colour in enumerate(["red", "green", "blue", "yellow", "red", "green"]):
        make_photo(tmp_path / "photos" / f"{colour}-{i}.jpg", colour)
    return tmp_path / "photos"


def tag_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert run(["tag", *argv, "--json", "--model", TINY]) == EXIT_OK, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_tag_commands_end_to_end(home: Path, photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["index", str(photos), "--model", TINY, "--json"]) == EXIT_OK
    capsys.readouterr()
    listed = tag_json(capsys, "list", "--counts")
    assert isinstance(listed, list) and len(listed) >= 300 and all("photos" in row for row in listed)
    assert {row["group"] for row in tag_json(capsys, "list", "--group", "animals")} == {"Animals"}  # type: ignore[union-attr]

    first = str(photos / "red-0.jpg")
    added = tag_json(capsys, "add", "crimson thing", "--prompt", "a red square", "--example", first)
    assert added["name"] == "crimson thing" and added["photos"] >= 1  # type: ignore[index]
    assert tag_json(capsys, "sensitivity", "crimson thing", "+2")["sensitivity"] == 2  # type: ignore[index]
    shown = tag_json(capsys, "show", first)
    assert {"name": "crimson thing", "state": "accepted"}.items() <= shown[0].items()  # type: ignore[index]

    retag = tag_json(capsys, "retag")
    assert retag["photos"] == 6 and retag["tags"] >= 300  # type: ignore[index]
    queue = tag_json(capsys, "review", "--limit", "5")
    assert isinstance(queue, list) and len(queue) <= 5
    second = str(photos / "green-1.jpg")
    assert tag_json(capsys, "reject", f"{second}:crimson thing") == {"rejected": 1}
    assert tag_json(capsys, "accept", "#1:beach", "#2:beach") == {"accepted": 2}

    exported = tag_json(capsys, "export", str(tmp_path / "tags.json"))
    assert exported["labels"] == 4 and (tmp_path / "tags.json").is_file()  # type: ignore[index]
    assert tag_json(capsys, "export", "--xmp", str(tmp_path / "xmp"))["files"] >= 2  # type: ignore[index]
    assert tag_json(capsys, "remove", "crimson thing") == {"removed": "crimson thing", "labels": 2}
    imported = tag_json(capsys, "import", str(tmp_path / "tags.json"))
    assert imported["labels"] == 4 and imported["unmatched"] == 0  # type: ignore[index]


def test_tag_errors_are_sentences(home: Path, photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["index", str(photos), "--model", TINY]) == EXIT_OK
    capsys.readouterr()
    cases = [
        (["tag", "export", "--xmp", str(photos / "sidecars")], "never writes into photo folders"),
        (["tag", "sensitivity", "beach", "3"], "from -2"),
        (["tag", "remove", "beach"], "built-in"),
        (["tag", "accept", "#1:no such tag"], "No tag named"),
        (["tag", "accept", "nonsense"], "is not PHOTO:TAG"),
        (["tag", "show", str(photos / "missing.jpg")], "not a photo in the library"),
        (["tag", "list", "--group", "nope"], "no tag group"),
    ]
    for argv, message in cases:
        assert run([*argv, "--model", TINY]) == EXIT_USER, argv
        assert message in capsys.readouterr().err
    assert not (photos / "sidecars").exists()
    assert run(["tag", "--model", TINY]) == EXIT_OK  # no action lists the tags
    assert "Animals:" in capsys.readouterr().out
