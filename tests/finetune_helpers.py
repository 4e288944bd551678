"""Shared pieces of the fine-tuning wizard tests: a main window over a library that searches with the real
tiny model (the trainer fine-tunes whatever the library uses), and a run folder set up without the GUI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import TEST_MODELS, make_colour_classes, with_tiny_export
from pytestqt.qtbot import QtBot

from photosift.app.gui.finetune.runs import RunRecord, new_record
from photosift.app.gui.finetune.setup import CaptionChoice, prepare_run
from photosift.app.gui.main_window import MainWindow
from photosift.app.main import ModelProvider, model_provider
from photosift.app.tasks import TaskRunner
from photosift.core.catalog import Catalog
from photosift.core.library import Library
from photosift.core.models.spec import load_spec
from photosift.core.settings import Paths, Settings
from photosift.core.training_sets import labelled_set
from photosift.training.config import TrainConfig

TINY = TEST_MODELS / "tiny.json"
COLOURS = ("red", "green", "blue", "yellow")
PER_CLASS = 6
TRAIN_MS = 60_000  # a trainer process: ~6 s of imports, then seconds of work; generous on a loaded machine
# Settings that make the tiny model train in seconds on a CPU: no DataLoader worker processes, and steps
# large enough to move random weights.
FAST = {"workers": 0, "lr_tower": 1e-3, "lr_proxies": 1e-2, "epochs": 2, "batch_size": 8}


def tiny_library(home: Path, photos_root: Path, exported: Path) -> tuple[Library, ModelProvider]:
    """A library of colour classes, indexed with the tiny model (random weights, real open_clip code).

    Models run as on any CPU (onnxruntime), the tiny one from the session's export (`exported`, the
    `tiny_export` fixture): on torch, the tag vocabulary's 2,816 prompts cost 6.7 CPU-seconds a library,
    on onnxruntime 0.8, and the copied export saves the 3.3 of making it."""
    paths = Paths(home)
    paths.ensure()
    with_tiny_export(paths.models, exported)
    models = model_provider(paths)
    spec = load_spec(TINY)
    library = Library(paths, Settings(device="cpu"), Catalog(paths.database), spec, models.make_encoder(spec, "cpu"))
    library.add_folder(make_colour_classes(photos_root, PER_CLASS, COLOURS))
    library.scan()
    library.index()
    return library, models


@contextmanager
def main_window(qtbot: QtBot, library: Library, models: ModelProvider) -> Iterator[MainWindow]:
    runner = TaskRunner(library)
    window = MainWindow(library, runner, models=models)
    qtbot.addWidget(window)
    try:
        yield window
    finally:
        window.close()
        runner.shutdown()
        window.parts.thumbnails.wait()


def prepared_run(library: Library, name: str, **settings: object) -> RunRecord:
    """A run folder as the wizard leaves it before training (folders as classes, class names as captions)."""
    record = new_record(library.paths, name, library.spec.name)
    config = TrainConfig(model=str(TINY), method="mcip").replace(**(FAST | settings))
    prepare_run(library, labelled_set(library, "folders"), config, record, CaptionChoice(False, False, None))
    return record
