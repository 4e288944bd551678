"""Render the README's screenshots of the desktop app into docs/screenshots/.

    python docs/make_screenshots.py [--model tests/models/tiny.json] [--photos ../shared/data/hymenoptera]

A real main window over a temporary library of the shared photos: the timeline of the empty search field,
the results grid after a search, the context menu, the viewer, a query with photos as chips, the folders
panel with an unreadable file, the first-run wizard, the settings and shortcuts dialogs, and the main
window in the dark theme.
Rendering is offscreen, so it runs on a machine without a display. The model is the tiny test model by
default (random weights, so the ranking means nothing, but the photos, layout and widgets are the real
ones); pass a trained spec for meaningful rankings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from screens import OUT, close_window, save, settle, wait_until  # noqa: E402

from photosift.app.gui.dialogs.settings import SettingsDialog  # noqa: E402
from photosift.app.gui.dialogs.shortcuts import NAVIGATION_KEYS, ShortcutsDialog, gather_shortcuts  # noqa: E402
from photosift.app.gui.main_window import MainWindow  # noqa: E402
from photosift.app.gui.prefs import apply_theme  # noqa: E402
from photosift.app.main import model_provider  # noqa: E402
from photosift.app.tasks import TaskRunner  # noqa: E402
from photosift.core.catalog import Catalog  # noqa: E402
from photosift.core.library import Library  # noqa: E402
from photosift.core.models.spec import load_spec  # noqa: E402
from photosift.core.settings import Paths, Settings  # noqa: E402

QUERY = "bees on a yellow flower"


def build_window(home: Path, model: Path, photos: Path) -> MainWindow:
    paths = Paths(home)
    paths.ensure()
    spec = load_spec(model)
    models = model_provider(paths)
    library = Library(paths, Settings(), Catalog(paths.database), spec, models.make_encoder(spec, "auto"))
    library.add_folder(photos)
    library.scan()
    library.index()
    window = MainWindow(library, TaskRunner(library), models=models)
    window.resize(1280, 820)
    window.show()
    return window


def show_first_screen(window: MainWindow) -> None:
    """Wait for the results and for the thumbnails of the first screen of them."""
    wait_until(lambda: window.model.hit_count() > 0)
    first_screen = [hit.photo_id for hit in window.model.hits()[:30]]
    window.model.want_thumbnails(range(min(window.model.rowCount(), 32)))  # before it is shown
    wait_until(lambda: all(window.thumbnails.is_ready(photo_id) for photo_id in first_screen))
    settle()


def photograph(window: MainWindow) -> None:
    wait_until(lambda: window.side_panel.folders_section.childCount() > 0)
    show_first_screen(window)  # the empty field's timeline
    save(window, "timeline")
    window.search_for(QUERY)
    wait_until(lambda: window.search_field.text() == QUERY and window.model.hit_at(0) is not None)
    show_first_screen(window)
    save(window, "main-window")

    window.results_view.selectionModel().select(
        window.model.index(2, 0), window.results_view.selectionModel().SelectionFlag.ClearAndSelect
    )
    menu = window.actions_.menu(window.selected_hits(window.model.index(2, 0)))
    rect = window.results_view.visualRect(window.model.index(2, 0))
    at = window.results_view.viewport().mapTo(window, rect.center())
    shot = window.grab()
    painter = QPainter(shot)
    painter.drawPixmap(at + QPoint(8, 8), menu.grab())
    painter.end()
    save(shot, "context-menu")

    window.open_viewer(0)
    wait_until(lambda: window.viewer.isVisible())
    window.viewer.resize(1100, 720)
    viewer = window.viewer
    wait_until(lambda: viewer.zoom_view.zoom is not None and viewer.details.pixels.text() not in ("", "…"))
    settle(1500)
    save(window.viewer, "viewer")
    window.viewer.close()

    photograph_query_chips(window)

    dialog = SettingsDialog(window.library.settings, window.prefs, window.models.registry.specs(), ["cpu"], window)
    dialog.show()
    settle()
    save(dialog, "settings")
    dialog.close()
    shortcuts = ShortcutsDialog([*gather_shortcuts(window), *NAVIGATION_KEYS], window)
    shortcuts.resize(560, 640)
    shortcuts.show()
    settle()
    save(shortcuts, "shortcuts")
    shortcuts.close()

    welcome = window.first_run.open_welcome()
    welcome.resize(720, 520)
    settle()
    save(welcome, "welcome-folders")
    welcome.next()
    settle()
    save(welcome, "welcome-model")
    welcome.reject()

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "dark")
    settle(800)
    save(window, "main-window-dark")
    apply_theme(app, "system")


def photograph_query_chips(window: MainWindow) -> None:
    """Two photos of the results added to the words: chips in the field, Query badges over the photos."""
    first, second = window.model.hits()[0], window.model.hits()[5]
    window.search_for(f"#{first.photo_id} + #{second.photo_id} + {QUERY}")
    chips = window.search_field.chips
    wait_until(lambda: len(chips()) == 2 and not any(c.icon().isNull() for c in chips()))
    wait_until(lambda: window.model.hit_at(0) is not None and bool(window.search.badges.badges()))
    show_first_screen(window)
    save(window, "query-chips")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO / "tests" / "models" / "tiny.json")
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "data" / "hymenoptera")
    args = parser.parse_args()
    if not args.photos.is_dir():
        print(f"The photos folder {args.photos} is missing.", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as home:
        window = build_window(Path(home), args.model, args.photos)
        try:
            photograph(window)
        finally:
            close_window(window)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
