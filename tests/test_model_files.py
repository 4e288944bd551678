"""Every file a model needs: listed in its spec, all required before it counts as installed, fetched by the
one resumable downloader, and named with their folder when the computer is offline; an offline first
run says so in its first sentence and leaves no empty index file behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_model_weights
from conftest import TEST_MODELS, make_photo
from test_model_weights import closed_port_url

from photosift.app.cli import run
from photosift.core.errors import ModelDownloadError
from photosift.core.models.files import fetch_missing, missing_files, needed_files
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import load_spec
from photosift.core.progress import Progress, no_progress
from photosift.core.protocol import EXIT_OK
from photosift.core.settings import Paths

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"]
served = test_model_weights.served  # the local HTTP server fixture


def spec_with_files(tmp_path: Path, base_url: str, weights: bool = False) -> Path:
    raw = json.loads((TEST_MODELS / "tiny.json").read_text(encoding="utf-8"))
    raw |= {"open_clip_config": str(TEST_MODELS / "tiny-arch.json"), "files_folder": "tiny-tokenizer"}
    raw["files"] = [{"name": name, "urls": [f"{base_url}/{name}"]} for name in TOKENIZER_FILES]
    if weights:
        del raw["random_init"]
        raw["weights"] = {"urls": [f"{base_url}/tiny.safetensors"], "filename": "tiny-files.safetensors"}
    path = tmp_path / "tiny-files.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_a_model_is_installed_only_when_every_file_is_there(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    spec = load_spec(spec_with_files(tmp_path, "https://example.invalid"))
    folder = paths.models / "tiny-tokenizer"
    assert [file.path for file in needed_files(spec, paths)] == [folder / name for name in TOKENIZER_FILES]
    registry = ModelRegistry(paths)
    assert not registry.is_downloaded(spec)
    folder.mkdir(parents=True)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert not registry.is_downloaded(spec) and [f.path.name for f in missing_files(spec, paths)] == TOKENIZER_FILES[1:]
    (folder / "tokenizer_config.json").write_text("{}", encoding="utf-8")
    assert registry.is_downloaded(spec)


def test_missing_files_download_with_progress(served: tuple[str, Path], tmp_path: Path) -> None:
    base_url, root = served
    for name in TOKENIZER_FILES:
        (root / name).write_text(json.dumps({"file": name}), encoding="utf-8")
    paths = Paths(tmp_path / "home")
    spec = load_spec(spec_with_files(tmp_path, base_url))
    reports: list[Progress] = []
    fetch_missing(spec, paths, reports.append)
    assert not missing_files(spec, paths)
    assert {r.message for r in reports if r.done == r.total} == set(TOKENIZER_FILES)  # one bar per file
    assert json.loads((paths.models / "tiny-tokenizer" / "tokenizer.json").read_text(encoding="utf-8")) == {
        "file": "tokenizer.json"
    }


def test_offline_the_error_names_every_missing_file_and_its_folder(tmp_path: Path) -> None:
    url = closed_port_url().rsplit("/", 1)[0]
    paths = Paths(tmp_path / "home")
    spec = load_spec(spec_with_files(tmp_path, url, weights=True))
    with pytest.raises(ModelDownloadError) as caught:
        fetch_missing(spec, paths, no_progress)
    message, details = str(caught.value), caught.value.details
    first = message.split(". ")[0]
    assert first.startswith("The Tiny test model could not be downloaded: this computer could not reach")
    assert "(are you offline?)" in message and "http" not in message  # the addresses are in the details
    weights, folder = paths.models / "tiny-files.safetensors", paths.models / "tiny-tokenizer"
    assert f"fetch its 3 missing files (their addresses are in the details) and save them as {weights}" in message
    assert all(str(folder / name) in message for name in TOKENIZER_FILES)
    assert all(f"{url}/{name}" in details for name in ["tiny.safetensors", *TOKENIZER_FILES])


def test_an_offline_first_run_leaves_no_empty_index_file(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photo(tmp_path / "photos" / "red.jpg", "red")
    spec = spec_with_files(tmp_path, closed_port_url().rsplit("/", 1)[0], weights=True)
    assert run(["index", str(tmp_path / "photos"), "--model", str(spec)]) != EXIT_OK
    error = capsys.readouterr().err
    assert "could not be downloaded: this computer could not reach" in error
    indexes = Paths(home).indexes
    assert not indexes.exists() or not any(indexes.iterdir())
