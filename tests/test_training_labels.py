"""The library's labels as training data: a manifest trains like the folder it was made from (same classes,
same reproducible splits), the tiny model trains on one end to end, and `photosift train --labels`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from conftest import COLOURS, make_colour_classes, make_photo
from test_library import open_library
from test_training import FAST, events

from photosift.app.cli import run
from photosift.core.protocol import EXIT_OK, EXIT_USER
from photosift.core.training_sets import labelled_set, write_manifest
from photosift.training.__main__ import main
from photosift.training.data import load_training_data, scan_manifest


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_colour_classes(tmp_path / "classes", per_class=8, colours=tuple(COLOURS))


@pytest.fixture
def manifest(home: Path, photos: Path) -> Path:
    """The photo folder's classes, through a real catalog (scanned, not indexed: the trainer reads files)."""
    with open_library(home) as library:
        library.add_folder(photos)
        library.scan()
        return write_manifest(library, labelled_set(library, "folders"))


@pytest.mark.parametrize("hold_out_classes", [False, True])
def test_a_manifest_trains_like_the_folder_it_lists(photos: Path, manifest: Path, hold_out_classes: bool) -> None:
    from_manifest = load_training_data(manifest, 0.25, seed=3, hold_out_classes=hold_out_classes)
    from_folder = load_training_data(photos, 0.25, seed=3, hold_out_classes=hold_out_classes)
    assert from_manifest == from_folder and from_manifest.class_names == ("blue", "green", "red", "yellow")
    assert load_training_data(manifest, 0.25, seed=3, hold_out_classes=hold_out_classes) == from_manifest
    others = {load_training_data(manifest, 0.25, s, hold_out_classes=hold_out_classes).validation for s in range(6)}
    assert len(others) > 1  # the seed does choose


def test_scan_manifest_leaves_out_missing_files_and_tiny_classes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kept = [make_photo(tmp_path / "p" / f"{i}.jpg") for i in range(3)]
    lone = make_photo(tmp_path / "p" / "lone.jpg")
    classes = {"b": ["p/0.jpg", "p/1.jpg", "p/gone.jpg"], "a": [str(kept[2]), str(lone)], "c": [str(lone)]}
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"version": 1, "source": "albums", "classes": classes}))
    with caplog.at_level(logging.WARNING):
        items, names = scan_manifest(path)
    assert names == ("a", "b") and items == [(kept[2], 0), (lone, 0), (kept[0], 1), (kept[1], 1)]
    assert "1 photo listed in" in caplog.text and "no longer exists" in caplog.text


def test_the_trainer_runs_on_a_manifest(home: Path, manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--data", str(manifest), "--method", "mcip", "--epochs", "1", "--name", "from-labels", *FAST]
    assert main(argv) == 0
    log = events(capsys.readouterr().out)
    (start,) = [e for e in log if e["event"] == "start"]
    assert start["classes"] == 4 and (start["train"], start["validation"]) == (24, 8)
    assert log[-1]["event"] == "done" and log[-1]["model"] == "from-labels"
    assert json.loads((home / "runs" / "from-labels" / "config.json").read_text())["data"] == str(manifest)


@pytest.fixture
def catalogued(home: Path, photos: Path) -> Path:
    with open_library(home) as library:
        library.add_folder(photos)
        library.scan()
    return photos


def test_photosift_train_labels_dry_run_lists_classes_and_warnings(
    catalogued: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["train", "--labels", "folders", "--dry-run"]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "4 classes from the library's folders, 32 photos:"
    assert out[1:] == [f"      8  {colour}" for colour in ("blue", "green", "red", "yellow")]

    argv = ["train", "--labels", "folders", "--exclude", "Blue", "--exclude", "green", "--exclude", "yellow"]
    assert run([*argv, "--dry-run", "--min-images-per-class", "9"]) == EXIT_USER
    out = capsys.readouterr().out
    assert "1 class from the library's folders, 8 photos:" in out
    assert "error: Fine-tuning needs at least two classes; found only 'red'." in out
    assert "warning: 'red' has only 8 photos, too few to learn it reliably (at least 9 advised)." in out


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--labels", "folders", "--exclude", "purple"], "There is no class 'purple' among the folders"),
        (["--labels", "tags", "--dry-run"], None),
        (["--labels", "folders", "--data", "somewhere"], "either --labels or --data"),
        (["--dry-run", "--data", "somewhere"], "add --labels"),
    ],
)
def test_photosift_train_labels_refuses_what_it_cannot_do(
    catalogued: Path, capsys: pytest.CaptureFixture[str], argv: list[str], problem: str | None
) -> None:
    assert run(["train", *argv]) == EXIT_USER
    out, err = capsys.readouterr()
    if problem is None:  # nothing labelled: the dry run's listing says so
        assert "error: No tags have been accepted yet" in out
    else:
        assert problem in err


def test_photosift_train_labels_trains_on_a_manifest(
    home: Path, catalogued: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--labels", "folders", "--exclude", "yellow", "--method", "gpr-ft", "--epochs", "1"]
    assert run([*argv, "--name", "via-labels", *FAST]) == EXIT_OK
    out, err = capfd.readouterr()
    assert "3 classes from the library's folders, 24 photos:" in err and "Training on" in err
    (manifest,) = (home / "labels").iterdir()
    assert sorted(json.loads(manifest.read_text())["classes"]) == ["blue", "green", "red"]
    assert any(e["event"] == "done" and e["model"] == "via-labels" for e in events(out))
