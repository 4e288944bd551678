"""Helpers shared by the benchmark scripts (not part of the app)."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec, load_spec
from photosift.core.settings import Paths

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow
    from photosift.core.library import Library

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def indexing_rate(library: Library, folder: Path) -> float:
    """Photos/s of one `Library.index` run over `folder` (added and scanned first, untimed); closes the library."""
    library.add_folder(folder)
    library.scan()
    start = time.perf_counter()
    report = library.index()
    elapsed = time.perf_counter() - start
    library.close()
    return report.embedded / elapsed


def random_weights_spec(name_or_path: str, paths: Paths) -> ModelSpec:
    """A built-in spec with random weights: the same architecture and speed, no download."""
    path = Path(name_or_path)
    spec = load_spec(path) if path.suffix == ".json" else ModelRegistry(paths).resolve(name_or_path)
    return dataclasses.replace(spec, weights=None, checkpoint=None, random_init=True)


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
    shut_down(window.state, window.thumbnails, wait_ms=-1)  # a benchmark's next run needs them all stopped
