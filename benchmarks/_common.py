"""Helpers shared by the benchmark scripts (not part of the app)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from photosift.core.imageio import PHOTO_EXTENSIONS
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec, load_spec
from photosift.core.settings import Paths

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow
    from photosift.core.library import Library

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def photo_files(source: str, limit: int) -> list[Path]:
    """The first `limit` photos of a shared data set (`../shared/data/SOURCE`), in path order."""
    folder = SHARED_DATA / source
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_EXTENSIONS)[:limit]


def linked_folder(folder: Path, files: list[Path]) -> Path:
    """A new folder of symbolic links to `files`, numbered in order: the shared photos are never copied."""
    folder.mkdir(parents=True)
    for i, path in enumerate(files):
        os.symlink(path, folder / f"{i:05}{path.suffix.lower()}")
    return folder


def indexing_rate(library: Library, folder: Path) -> float:
    """Photos/s of adding `folder`, scanning it and one `Library.index` run over it, as `photosift index`
    does (a peer's whole command walks its folder too); closes the library."""
    start = time.perf_counter()
    library.add_folder(folder)
    library.scan()
    report = library.index()
    elapsed = time.perf_counter() - start
    library.close()
    return report.embedded / elapsed


def random_weights_spec(name_or_path: str, paths: Paths) -> ModelSpec:
    """A built-in spec with random weights: the same architecture and speed, no download. A model whose
    tokenizer comes as files (SigLIP 2's Gemma tokenizer) gets stand-in files under `paths.models`: its
    text tower's cost depends on the context length, not on which token ids fill it."""
    path = Path(name_or_path)
    spec = load_spec(path) if path.suffix == ".json" else ModelRegistry(paths).resolve(name_or_path)
    spec = dataclasses.replace(spec, weights=None, checkpoint=None, random_init=True)
    if spec.files_folder is not None and not (paths.models / spec.files_folder / "tokenizer.json").exists():
        folder = paths.models / "stand-in-tokenizer"
        write_stand_in_tokenizer(folder, [file.name for file in spec.files])
        spec = dataclasses.replace(spec, files_folder=str(folder))
    return spec


def write_stand_in_tokenizer(folder: Path, names: list[str]) -> None:
    """A word-level Hugging Face tokenizer over a few words, saved as the tokenizer files in `names` (the
    spec's list), so that the model counts as installed and nothing is downloaded. Other files (NLLB's
    text tower config) are not made up: they stay missing and the model's load says so."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["<pad>", "</s>", "<unk>", "a", "photo", "of", "the", "dog", "cat", "beach", "bee", "ant"]
    tokenizer = Tokenizer(models.WordLevel({word: i for i, word in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    special = {"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}
    configs = {
        "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast", **special},
        "special_tokens_map.json": special,
    }
    for name in names:
        if name in configs:
            (folder / name).write_text(json.dumps(configs[name]), encoding="utf-8")


def open_main_window(home: Path, model: str) -> MainWindow:
    """The app's main window over a new library in `home`, with `model` at random weights, 1200x800
    (not shown yet). `close_main_window` takes it down."""
    from PySide6.QtWidgets import QApplication

    from photosift.app.gui.main_window import MainWindow
    from photosift.app.main import model_provider
    from photosift.app.tasks import TaskRunner
    from photosift.core.catalog import Catalog
    from photosift.core.library import Library
    from photosift.core.settings import Settings

    QApplication.instance() or QApplication(sys.argv[:1])
    paths = Paths(home)
    paths.ensure()
    spec = random_weights_spec(model, paths)
    settings = Settings()
    models = model_provider(paths)
    library = Library(paths, settings, Catalog(paths.database), spec, models.make_encoder(spec, settings.device))
    window = MainWindow(library, TaskRunner(library), models=models)
    window.resize(1200, 800)
    return window


def close_main_window(window: MainWindow) -> None:
    """Close the window, wait for its background work, then close its (current) library."""
    from photosift.app.gui.app import shut_down

    window.close()
    shut_down(window.parts.state, window.parts.thumbnails, wait_ms=-1)  # a benchmark's next run needs them all stopped
