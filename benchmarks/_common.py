"""Helpers shared by the benchmark scripts (not part of the app)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from photosift.core.models.registry import ModelRegistry  # noqa: E402
from photosift.core.models.spec import ModelSpec, load_spec  # noqa: E402
from photosift.core.settings import Paths  # noqa: E402

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow


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
    shut_down(window)
