"""Render the README's screenshots of the desktop app into docs/screenshots/.

    python docs/make_screenshots.py [--model tests/models/tiny.json] [--photos ../shared/data/hymenoptera]
                                    [--only context-menu,timeline]

A real main window over a temporary library of a copy of the shared photos, their file times spread over
a year so that the timeline has months: the timeline of the empty search field, the results grid after a
search (also at the largest thumbnails with names, and at the smallest), the context menu with its "Add
to album" submenu, the viewer, a query with photos as chips, the first-run wizard, the settings and
shortcuts dialogs, and the main window in the dark theme. `--only` writes the screenshots named and
leaves the others as they are.
Rendering is offscreen, so it runs on a machine without a display; with QT_QPA_PLATFORM=xcb it renders
in an X server (Xvfb), as the README's screenshots were. The model is the tiny test model by default
(random weights, so the ranking means nothing, but the photos, layout and widgets are the real ones); pass
a trained spec for meaningful rankings.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Collection
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QPainter, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication, QMenu, QWidget  # noqa: E402
from screens import OUT, close_window, save, settle, wait_until  # noqa: E402

from photosift.app.gui.dialogs.settings import SettingsDialog  # noqa: E402
from photosift.app.gui.dialogs.shortcuts import NAVIGATION_KEYS, ShortcutsDialog, gather_shortcuts  # noqa: E402
from photosift.app.gui.main_window import MainWindow  # noqa: E402
from photosift.app.gui.prefs import THUMBNAIL_MAX, THUMBNAIL_MIN, apply_theme  # noqa: E402
from photosift.app.main import model_provider  # noqa: E402
from photosift.app.tasks import TaskRunner  # noqa: E402
from photosift.core.catalog import Catalog  # noqa: E402
from photosift.core.library import Library  # noqa: E402
from photosift.core.models.spec import load_spec  # noqa: E402
from photosift.core.settings import Paths, Settings  # noqa: E402

QUERY = "bees on a yellow flower"
ALBUMS = ("Garden visits", "Macro")  # listed in the context menu's "Add to album"
YEAR_S = 365 * 24 * 3600


def spread_over_a_year(photos: Path, into: Path) -> Path:
    """Copy the photos (never touched themselves) with file times spread over the past year: the shared
    photos carry no capture date and one file time, which made a timeline of a single month."""
    files = sorted(p for p in photos.rglob("*") if p.is_file())
    now = time.time()
    for i, file in enumerate(files):
        copy = into / file.relative_to(photos)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, copy)
        when = now - i * YEAR_S / max(1, len(files))
        os.utime(copy, (when, when))
    return into


def build_window(home: Path, model: Path, photos: Path) -> MainWindow:
    paths = Paths(home)
    paths.ensure()
    spec = load_spec(model)
    models = model_provider(paths)
    library = Library(paths, Settings(), Catalog(paths.database), spec, models.make_encoder(spec, "auto"))
    library.add_folder(spread_over_a_year(photos, home / "photos"))
    library.scan()
    library.index()
    for album in ALBUMS:
        library.albums.create(album)
    window = MainWindow(library, TaskRunner(library), models=models)
    window.resize(1280, 820)
    window.show()
    return window


def show_first_screen(window: MainWindow) -> None:
    """Wait for the results and for the thumbnails of the first screen of them."""
    model = window.parts.results_model
    wait_until(lambda: model.hit_count() > 0)
    first_screen = [hit.photo_id for hit in model.hits()[:30]]
    model.want_thumbnails(range(min(model.rowCount(), 32)))  # before it is shown
    wait_until(lambda: all(window.parts.thumbnails.is_ready(photo_id) for photo_id in first_screen))
    settle()


def photograph(window: MainWindow, only: Collection[str]) -> None:
    def shoot(widget: QWidget | QPixmap, name: str) -> None:
        if not only or name in only:
            save(widget, name)

    wait_until(lambda: window.parts.side_panel.folders_section.childCount() > 0)
    wait_until(lambda: len(window.parts.sections.albums()) == len(ALBUMS))
    show_first_screen(window)  # the empty field's timeline
    shoot(window, "timeline")
    window.search_for(QUERY)
    wait_until(lambda: window.parts.search_field.text() == QUERY and window.parts.results_model.hit_at(0) is not None)
    show_first_screen(window)
    shoot(window, "main-window")
    shoot(context_menu(window, 2), "context-menu")
    for name, size, names in (("grid-large", THUMBNAIL_MAX, True), ("grid-small", THUMBNAIL_MIN, False)):
        if not only or name in only:
            window.parts.results_view.names_action.setChecked(names)
            window.set_thumbnail_size(size)
            show_first_screen(window)
            shoot(window, name)
    window.parts.results_view.names_action.setChecked(False)
    window.set_thumbnail_size(window.prefs.thumbnail_size)

    window.open_viewer(0)
    wait_until(lambda: window.parts.viewer.isVisible())
    window.parts.viewer.resize(1100, 720)
    viewer = window.parts.viewer
    wait_until(lambda: viewer.zoom_view.zoom is not None and viewer.details.pixels.text() not in ("", "…"))
    settle(1500)
    shoot(window.parts.viewer, "viewer")
    window.parts.viewer.close()

    photograph_query_chips(window, shoot)

    specs = window.parts.models.registry.specs()
    dialog = SettingsDialog(window.library.settings, window.prefs, specs, ["cpu"], window)
    dialog.show()
    settle()
    shoot(dialog, "settings")
    dialog.close()
    shortcuts = ShortcutsDialog([*gather_shortcuts(window), *NAVIGATION_KEYS], window)
    shortcuts.resize(560, 640)
    shortcuts.show()
    settle()
    shoot(shortcuts, "shortcuts")
    shortcuts.close()

    welcome = window.parts.first_run.open_welcome()
    welcome.resize(720, 520)
    settle()
    shoot(welcome, "welcome-folders")
    welcome.next()
    settle()
    shoot(welcome, "welcome-model")
    welcome.reject()

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "dark")
    settle(800)
    shoot(window, "main-window-dark")
    apply_theme(app, "system")


def context_menu(window: MainWindow, row: int) -> QPixmap:
    """The window with the photo at `row` selected and its context menu open (as the window builds it, with
    the albums' entries), the "Add to album" submenu open beside it."""
    index = window.parts.results_model.index(row, 0)
    window.parts.results_view.selectionModel().select(
        index, window.parts.results_view.selectionModel().SelectionFlag.ClearAndSelect
    )
    hits = window.selected_hits(index)
    menu = window.parts.photo_actions.menu(hits)
    window.parts.album_actions.extend_result_menu(menu, hits)
    menu.adjustSize()
    entry = next(action for action in menu.actions() if action.text() == "Add to album")
    submenu = entry.menu()
    assert isinstance(submenu, QMenu)
    submenu.adjustSize()
    menu.setActiveAction(entry)  # highlighted, as under the pointer
    rect = window.parts.results_view.visualRect(index)
    at = window.parts.results_view.viewport().mapTo(window, rect.center()) + QPoint(8, 8)
    at.setX(min(at.x(), window.width() - menu.width() - submenu.width()))  # both inside the window
    shot = window.grab()
    painter = QPainter(shot)
    painter.drawPixmap(at, menu.grab())
    painter.drawPixmap(at + menu.actionGeometry(entry).topRight() + QPoint(-4, -4), submenu.grab())
    painter.end()
    return shot


def photograph_query_chips(window: MainWindow, shoot: Callable[[QWidget | QPixmap, str], None]) -> None:
    """Two photos of the results added to the words: chips in the field, Query badges over the photos."""
    first, second = window.parts.results_model.hits()[0], window.parts.results_model.hits()[5]
    window.search_for(f"#{first.photo_id} + #{second.photo_id} + {QUERY}")
    chips = window.parts.search_field.chips
    wait_until(lambda: len(chips()) == 2 and not any(c.icon().isNull() for c in chips()))
    wait_until(lambda: window.parts.results_model.hit_at(0) is not None and bool(window.parts.search.badges.badges()))
    show_first_screen(window)
    shoot(window, "query-chips")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO / "tests" / "models" / "tiny.json")
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "data" / "hymenoptera")
    parser.add_argument("--only", default="", help="comma-separated screenshot names (default: all of them)")
    args = parser.parse_args()
    if not args.photos.is_dir():
        print(f"The photos folder {args.photos} is missing.", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as home:
        window = build_window(Path(home), args.model, args.photos)
        try:
            photograph(window, {name for name in args.only.split(",") if name})
        finally:
            close_window(window)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
