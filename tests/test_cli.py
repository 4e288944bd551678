"""The command line with the tiny real model: index, search, similar, status, models; errors read
as sentences with meaningful exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEST_MODELS, WatchProcess, leave_partial_download, make_photo, with_tiny_export
from test_ocr import make_sign

from photosift.app.cli import run
from photosift.core.catalog import Catalog
from photosift.core.models.registry import ModelRegistry
from photosift.core.protocol import EXIT_BUG, EXIT_INTERRUPTED, EXIT_OK, EXIT_USER
from photosift.core.settings import Paths, Settings, save_settings

TINY = str(TEST_MODELS / "tiny.json")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    for i, colour in enumerate(["red", "green", "blue", "yellow", "red", "green"]):
        make_photo(tmp_path / "photos" / f"{colour}-{i}.jpg", colour)
    return tmp_path / "photos"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert run([*argv, "--json", "--model", TINY]) == EXIT_OK
    return json.loads(capsys.readouterr().out)


def test_index_search_similar_status(home: Path, photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = run_json(capsys, "index", str(photos))
    assert summary["index"]["embedded"] == 6 and summary["folders"][0]["added"] == 6

    page = run_json(capsys, "search", "a red photo", "--limit", "4")
    assert len(page["hits"]) == 4 and page["has_more"]
    scores = [hit["score"] for hit in page["hits"]]
    assert scores == sorted(scores, reverse=True)

    similar = run_json(capsys, "similar", str(photos / "red-0.jpg"), "--limit", "10")
    assert len(similar["hits"]) == 5 and all(h["path"] != str(photos / "red-0.jpg") for h in similar["hits"])

    status = run_json(capsys, "status", "--failures")
    assert (status["photos"], status["embedded"], status["pending"]) == (6, 6, 0)
    assert status["model"] == "tiny" and status["index"]["saved_and_current"]

    again = run_json(capsys, "index")
    assert again["index"]["embedded"] == 0 and again["folders"][0]["unchanged"] == 6


def test_human_output_and_errors(home: Path, photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["index", "--model", TINY]) == EXIT_USER
    assert "no photo folders yet" in capsys.readouterr().err
    assert run(["index", str(photos), "--model", TINY]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Embedded 6 photos in" in out and "This library uses tiny from now on" in out
    assert run(["status"]) == EXIT_OK  # no --model: the library kept the one it was indexed with
    assert "Model: tiny on cpu\n" in capsys.readouterr().out
    assert run(["status", "--cpu-runtime", "int8"]) == EXIT_OK
    assert "Model: tiny on cpu (int8 image weights chosen)\n" in capsys.readouterr().out
    other = "vit-b-32-metaclip"  # not downloaded: a search with it must not try to fetch it
    assert run(["status", "--model", other]) == EXIT_OK
    assert f"No photos are indexed with {other} yet; this library has embeddings of tiny (6 photos)" in (
        capsys.readouterr().out
    )
    assert run(["similar", "#1", "--model", other]) == EXIT_USER
    assert "`photosift models select NAME`" in capsys.readouterr().err
    assert run(["search", "beach +", "--model", TINY]) == EXIT_USER
    assert "Expected a term after the '+'" in capsys.readouterr().err
    assert run(["index", str(photos / "no-such-folder"), "--model", TINY]) == EXIT_USER
    assert "does not exist" in capsys.readouterr().err
    assert run(["search", "dog", "--model", "no-such-model"]) == EXIT_USER
    assert "no-such-model" in capsys.readouterr().err


def test_a_search_of_an_empty_library_says_what_to_do_without_loading_a_model(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a first run the default model is not downloaded yet: a search before any folder was added would
    fetch it (or fail offline) only to find nothing."""
    from photosift.core.models import encoder

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model's files were fetched")

    monkeypatch.setattr(encoder, "fetch_missing", no_download)
    for command in (["search", "dog"], ["similar", str(TEST_MODELS / "tiny.json")], ["search", "rating:>=4"]):
        assert run(command) == EXIT_USER
        assert "The library has no photos yet: add a folder with `photosift index FOLDER`" in capsys.readouterr().err


def test_models_list_and_select(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = run_json(capsys, "models", "list")
    names = {row["name"] for row in rows}
    assert {"mcip-siglip-so400m-384", "vit-b-32-metaclip"} <= names
    specs = tmp_path / "specs"
    shutil.copytree(TEST_MODELS, specs)
    monkeypatch.chdir(specs)
    assert run(["models", "select", "tiny.json"]) == EXIT_OK  # relative, as typed
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert run(["status", "--json"]) == EXIT_OK  # from another folder
    assert json.loads(capsys.readouterr().out)["model"] == "tiny"
    listed = {row["name"]: row for row in run_json(capsys, "models", "list")}
    assert listed["tiny"]["selected"] and listed["tiny"]["spec_file"] == str(specs / "tiny.json")
    assert not any(row["selected"] for name, row in listed.items() if name != "tiny")
    shutil.rmtree(specs)
    assert run(["status"]) == EXIT_USER
    err = capsys.readouterr().err
    assert f"The selected model cannot be used. The model spec {specs / 'tiny.json'} does not exist." in err
    assert "Pick another with `photosift models select NAME`" in err
    assert run(["models", "list"]) == EXIT_OK
    assert f"* {specs / 'tiny.json'}  (selected, but it cannot be used." in capsys.readouterr().out


def test_models_list_shows_an_unfinished_download(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mcip = ModelRegistry(Paths(home)).resolve("mcip-siglip-so400m-384")
    weights = mcip.weights_file(Paths(home))
    assert weights is not None
    leave_partial_download(weights, 1_250_000)
    rows = {row["name"]: row for row in run_json(capsys, "models", "list")}
    assert rows["mcip-siglip-so400m-384"]["fetched_mb"] == 1.2 and rows["vit-b-32-metaclip"]["fetched_mb"] == 0
    assert run(["models", "list"]) == EXIT_OK
    assert "3520 MB to download, 1.2 MB of it fetched]" in capsys.readouterr().out


def test_errors_are_sentences_not_tracebacks(home: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "photosift.app", "similar", str(tmp_path / "nope.jpg"), "--model", TINY],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == EXIT_USER
    assert "Traceback" not in result.stderr and result.stderr.startswith("photosift: ")


def test_watch_keeps_the_catalog_live_and_reads_the_text_of_new_photos(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_export: Path
) -> None:
    """One `photosift watch` process and one model load for all of it: the folder is added straight to the
    catalog, the watcher embeds what it finds at start and what arrives later, and reads each photo's text
    after embedding it, as `index` does; the check reads the catalog (no search, no second model load)."""
    photos = tmp_path / "watched"
    make_sign(photos / "sign.jpg", "BLUE HARBOUR")
    paths = Paths(home)
    save_settings(paths, Settings(ocr="all"))  # the tiny random model makes the text gate meaningless
    paths.ensure()
    with_tiny_export(paths.models, tiny_export)
    catalog = Catalog(paths.database)
    catalog.add_folder(photos)
    catalog.close()
    with WatchProcess("--model", TINY) as watch:
        watch.wait_for("Embedded 1 photo in")
        assert "(1 with text)" in watch.wait_for("Read the text of 1 photo")
        make_sign(photos / "new" / "later.jpg", "GREEN LIGHTHOUSE")
        assert watch.wait_for("1 new").endswith(": 1 new, 1 unchanged\n")
        watch.wait_for("Embedded 1 photo in")
        assert "(1 with text)" in watch.wait_for("Read the text of 1 photo")
        status = run_json(capsys, "status")
        assert status["embedded"] == 2 and status["pending"] == 0 and status["ocr"]["text"] == 2  # type: ignore[index]
        assert watch.stop() == EXIT_INTERRUPTED  # SIGTERM stops it as Ctrl-C does: index saved, library closed
        assert watch.wait_for("Stopped.") == "Stopped.\n"
    assert "Watching 1 folder; press Ctrl-C to stop.\n" in watch.said


def test_a_bug_is_logged_and_reported_as_a_sentence(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import photosift.app.cli.library as commands

    def broken(*_: object) -> int:
        raise RuntimeError("something impossible")

    monkeypatch.setattr(commands, "cmd_status", broken)
    assert run(["status"]) == EXIT_BUG
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: something impossible)" in err
    assert "something impossible" in (home / "logs" / "photosift.log").read_text()
