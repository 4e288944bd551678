"""The main window: search field, folders panel, results grid, viewer, and indexing progress.

The window wires widgets to three workers that never block it: the `TaskRunner` (every library call),
the `IndexingController` (scans, indexing, watching, model switches) and the `ThumbnailCache`.

It is built in two steps, so that it shows at once whatever the library's size: `MainWindow()` alone is
the frame (title, size, "Opening your library…"), and `open` then builds its parts over a library
(`window_parts.WindowParts`, kept as `parts`; only this module sets the window's attributes) and its menu
bar (`window_menus`). This module imports only Qt and light modules at its top, because `run_gui` shows
the frame before the library's modules (SQLAlchemy, numpy, the catalog: most of a cold start) are
imported; methods that need a controller import it where they use it (by then it is loaded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QModelIndex, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
)
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow

from photosift.app.errorlog import log_exception
from photosift.app.gui.prefs import THUMBNAIL_MAX, THUMBNAIL_MIN, GuiPrefs, save_prefs
from photosift.core.errors import Cancelled, EnvironmentFault
from photosift.core.wording import plural

if TYPE_CHECKING:
    from photosift.app.gui.controllers.indexing import IndexingController
    from photosift.app.gui.state import Changes
    from photosift.app.gui.widgets.thumbnails import ThumbnailCache
    from photosift.app.gui.window_parts import WindowParts
    from photosift.app.main import ModelProvider
    from photosift.app.tasks import TaskRunner
    from photosift.core.library import Library, LibraryStatus
    from photosift.core.progress import Progress
    from photosift.core.search.records import SearchHit

OPENING = "Opening your library…"
# While indexing, the current results are refreshed at most this often: new photos show up as they are
# embedded without re-ranking the grid under the user's pointer every batch.
REFRESH_MS = 2000


class MainWindow(QMainWindow):
    results_shown = Signal()  # a page of results is in the model
    error_shown = Signal(str)  # the inline query error changed ("" when cleared)
    indexing_finished = Signal(object)  # a RunOutcome, or the exception that stopped the run
    library_status_shown = Signal(object)  # a LibraryStatus, after each refresh of the panel and summary
    opened = Signal()  # `open` built the window over its library

    parts: WindowParts  # its workers, widgets and controllers, once `open` built them

    def __init__(
        self,
        library: Library | None = None,
        runner: TaskRunner | None = None,
        thumbnails: ThumbnailCache | None = None,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
        prefs: GuiPrefs | None = None,
        controller: IndexingController | None = None,
        models: ModelProvider | None = None,
    ):
        """With a library and its runner, the whole window; with neither, only its frame: `open` builds
        the rest."""
        super().__init__()
        self.prefs = prefs or GuiPrefs()
        self._open_url = open_url
        self.is_open = False
        self._browsed = ""  # the folder the last file dialog ended in: the next one opens there
        self.setWindowTitle("Photosift")
        self.resize(1200, 800)
        if library is None or runner is None:
            opening = QLabel(OPENING, alignment=Qt.AlignmentFlag.AlignCenter)
            opening.setAccessibleName(OPENING)
            self.setCentralWidget(opening)
        else:
            self.open(library, runner, thumbnails, controller, models)

    def open(
        self,
        library: Library,
        runner: TaskRunner,
        thumbnails: ThumbnailCache | None = None,
        controller: IndexingController | None = None,
        models: ModelProvider | None = None,
    ) -> None:
        """Build the widgets over `library` (the runner's), then start the first search and the counts."""
        from photosift.app.gui import window_menus, window_parts

        self.refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self.refresh_timer.timeout.connect(self.show_indexing_so_far)
        self.parts = window_parts.WindowParts(self, library, runner, self._open_url, thumbnails, controller, models)
        slots = window_menus.WindowSlots(
            choose_folder=self.choose_folder,
            choose_image=self.choose_image,
            paste_image=self.paste_image,
            open_settings=self.open_settings,
            set_thumbnail_size=self.set_thumbnail_size,
            toggle_pause=self.toggle_pause,
            open_duplicates=self.open_duplicates,
        )
        window_menus.build(self, self.parts, slots)
        self.setAcceptDrops(True)
        self.set_thumbnail_size(self.prefs.thumbnail_size)
        names = self.parts.results_view.names_action
        names.setChecked(self.prefs.show_names)
        names.toggled.connect(self._names_toggled)
        if self.prefs.splitter_state:
            self.parts.splitter.restoreState(QByteArray(self.prefs.splitter_state))
        self.is_open = True
        self._start()
        self.opened.emit()

    def _start(self) -> None:
        """The first work of a built window: the empty field's timeline, the counts, watching, pruning."""
        from photosift.app.gui.widgets.thumbnails import prune_thumbnails

        self.run_query()
        self.refresh_library_status()
        self.parts.indexing.watch()
        cache = self.parts.thumbnails.cache_dir
        self.parts.runner.run_op(lambda lib: prune_thumbnails(cache, lib.photo_ids()), lambda _: None)

    @property
    def library(self) -> Library:
        """The library answering searches now (a model switch replaces it)."""
        return self.parts.runner.library

    def set_thumbnail_size(self, size: int) -> None:
        size = max(THUMBNAIL_MIN, min(THUMBNAIL_MAX, size))
        if self.parts.thumbnails.fit_to(size):
            self.parts.results_model.icons_changed()
        self.parts.results_view.set_line_height(size)
        self.parts.thumbnails_wanted.start()

    # Searching --------------------------------------------------------------------------------------

    def run_query(self, keep_scroll: bool = False) -> None:
        self.parts.search.run_query(keep_scroll)

    def search_for(self, text: str) -> None:
        """Put `text` in the field and search at once (menus, drops, pastes: the query stays editable)."""
        self.parts.search.search_for(text)

    def query_text(self) -> str:
        return self.parts.search.text()

    def find_similar_to_file(self, path: Path) -> None:
        from photosift.app.gui.controllers.queries import file_query_op

        self.parts.runner.run_op(file_query_op(path), self.search_for)

    def selected_hits(self, first: QModelIndex | None = None) -> list[SearchHit]:
        """The selected results in grid order, with `first` (the clicked one) leading."""
        rows = sorted(i.row() for i in self.parts.results_view.selectionModel().selectedIndexes())
        if first is not None and first.isValid():
            rows = [first.row(), *(r for r in rows if r != first.row())]
        hits = map(self.parts.results_model.hit_at, rows)
        return [hit for hit in hits if hit is not None]  # month headings left out

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        from photosift.app.gui.controllers.queries import dropped_image

        if dropped_image(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        from photosift.app.gui.controllers.queries import dropped_image

        path = dropped_image(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.find_similar_to_file(path)

    def choose_image(self) -> None:
        """Find photos like an image file the person picks: the keyboard's way to what a drop does."""
        from photosift.app.gui.controllers.queries import image_file_filter

        path, _ = QFileDialog.getOpenFileName(
            self, "Find photos like an image", self._start_folder(), image_file_filter()
        )
        if path:
            self._browsed = str(Path(path).parent)
            self.find_similar_to_file(Path(path))

    def _start_folder(self) -> str:
        """Where a file dialog opens: where the last one ended, else the Pictures folder."""
        from photosift.app.gui.start_folders import pictures_folder

        return self._browsed or pictures_folder()

    def paste_image(self) -> None:
        """Find photos like the image on the clipboard (copied pixels, or a copied image file)."""
        from photosift.app.gui.controllers.queries import pasted_image_op

        op = pasted_image_op(QGuiApplication.clipboard().mimeData(), self.library.paths.cache / "pasted")
        if op is None:
            self.statusBar().showMessage("The clipboard holds no image.", 5000)
            return
        self.parts.runner.run_op(op, self.find_similar_to_file)

    # Result actions ---------------------------------------------------------------------------------

    def context_menu(self, pos: QPoint) -> None:
        view = self.parts.results_view
        index = view.indexAt(pos)
        if self.parts.results_model.hit_at(index.row()) is not None:
            if not view.selectionModel().isSelected(index):
                view.setCurrentIndex(index)
            hits = self.selected_hits(index)
            menu = self.parts.photo_actions.menu(hits)
            self.parts.tag_actions.extend_result_menu(menu, hits)
            self.parts.album_actions.extend_result_menu(menu, hits)
            menu.exec(view.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def current_hits(self) -> list[SearchHit]:
        if not self.parts.results_model.rowCount():
            return []
        return self.selected_hits(self.parts.results_view.currentIndex())

    def open_viewer(self, row: int) -> None:
        """Show result `row` in the viewer window (large image, details, arrow keys to move on)."""
        from photosift.app.gui.widgets.placement import centre_over

        viewer = self.parts.viewer
        viewer.show_row(row)
        if not viewer.isVisible():
            centre_over(viewer, self)
        viewer.show()
        viewer.raise_()
        viewer.activateWindow()

    def copy_image(self, hit: SearchHit) -> None:
        from photosift.app.gui.ops.results import put_image_on_clipboard
        from photosift.app.gui.widgets.viewer_images import decode_op

        self.parts.runner.run_op(decode_op(hit.path, None), lambda decoded: put_image_on_clipboard(decoded.image))

    def show_properties(self, hit: SearchHit) -> None:
        row = self.parts.results_model.row_of(hit.photo_id)
        if row is not None:
            self.open_viewer(row)

    # Folders and indexing ---------------------------------------------------------------------------

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder", self._start_folder())
        if folder:
            self._browsed = str(Path(folder).parent)
            self.add_folder(Path(folder))

    def add_folder(self, path: Path) -> None:
        """Add `path` to the library; it is scanned, indexed and watched in the background."""
        self.parts.indexing.add_folder(path)

    def catch_up(self) -> None:
        """Find what changed in the folders while the app was closed (a background rescan)."""
        self.parts.indexing.catch_up()

    def open_settings(self) -> None:
        from photosift.app.gui.controllers.settings import open_settings

        open_settings(self, self.parts.state, self.prefs, self.apply_prefs)

    def apply_prefs(self, prefs: GuiPrefs) -> None:
        self.prefs = prefs
        self.set_thumbnail_size(prefs.thumbnail_size)
        self.parts.results_view.names_action.setChecked(prefs.show_names)

    def _names_toggled(self, shown: bool) -> None:
        """Names below every photo or on hover only (View menu): kept with the preferences."""
        self.prefs = replace(self.prefs, show_names=shown)

    def toggle_pause(self) -> None:
        indexing = self.parts.indexing
        if indexing.state == "paused":
            indexing.resume()
        else:
            indexing.pause()

    def on_progress(self, p: Progress) -> None:
        self.parts.progress_status.show_progress(p)
        if p.stage == "index" and p.done and not self.refresh_timer.isActive():
            self.refresh_timer.start()  # show the photos embedded so far, at most every REFRESH_MS

    def show_indexing_so_far(self) -> None:
        """New matches in the grid and the count in the status bar (it said "0 photos indexed" until
        the run ended); the side panel's tag and album counts wait for the end (smart albums search)."""
        self.parts.search.refresh()
        self.parts.runner.run_op(lambda lib: lib.status(), self.show_library_status)

    def indexing_done(self, outcome: object) -> None:
        from photosift.app.gui.controllers.indexing import RunOutcome

        self.refresh_timer.stop()
        if isinstance(outcome, RunOutcome):
            report = outcome.report
            stopped = " (paused)" if self.parts.indexing.state == "paused" else " (stopped)" if report.cancelled else ""
            unreadable = f", {report.failed} could not be read" if report.failed else ""
            if report.embedded or report.failed or report.cancelled:
                self.statusBar().showMessage(
                    f"Indexed {plural(report.embedded, 'photo')}{unreadable}{stopped}.", 10_000
                )
        elif isinstance(outcome, Cancelled):
            self.statusBar().showMessage("Stopped.", 10_000)
        elif isinstance(outcome, BaseException):
            self.parts.runner.present(outcome)
        self.parts.search.refresh()
        self.indexing_finished.emit(outcome)

    def model_switched(self, library: Library) -> None:
        self.statusBar().showMessage(f"Now searching with {library.spec.title}.", 10_000)

    def library_changed(self, changes: Changes) -> None:
        """A write changed the library: the counts may differ, and the results when tags or albums did."""
        self.refresh_library_status()
        if (changes.tags or changes.albums) and self.parts.search.follows_tags_or_albums():
            self.run_query(keep_scroll=True)

    def refresh_library_status(self) -> None:
        runner = self.parts.runner
        runner.run_op(lambda lib: lib.status(), self.show_library_status)
        self.parts.sections.refresh(runner.present)
        self.parts.places.refresh(runner.present)
        self.parts.duplicates_entry.refresh(runner.present)

    def open_duplicates(self) -> None:
        from photosift.app.gui.ops.duplicates import open_duplicates

        def refresh() -> None:  # photos were marked, or hidden or shown: the results and the count change
            self.run_query(keep_scroll=True)
            self.parts.duplicates_entry.refresh(self.parts.runner.present)

        open_duplicates(self, self.parts.state, self.parts.thumbnails.cache_dir, refresh)

    def show_library_status(self, status: LibraryStatus) -> None:
        self.parts.side_panel.set_folders(status.folders)
        summary = self.parts.summary_label
        if not status.folders:
            summary.setText("No photo folders yet: choose File ▸ Add folder… (Ctrl+O)")
        else:
            waiting = f", {status.pending:,} waiting to be indexed" if status.pending else ""
            switching = self.parts.indexing.switching_to
            moving = f" · switching to {switching.spec.title}" if switching else ""
            full = (
                f"{plural(status.embedded, 'photo')} indexed in {plural(len(status.folders), 'folder')}{waiting} · "
                f"{self.library.spec.title}{moving}"
            )
            summary.setToolTip(full)
            # Beside a run's progress the whole sentence was cut off in a 900-pixel window.
            running = self.parts.indexing.state != "idle"
            summary.setText(f"{plural(status.embedded, 'photo')} indexed" if running else full)
        self.library_status_shown.emit(status)

    def restore_geometry(self) -> None:
        """Put the window back where the user left it (saved by `closeEvent`); the side panel's width
        comes back with the widgets (`open`)."""
        if self.prefs.window_geometry:
            self.restoreGeometry(QByteArray(self.prefs.window_geometry))

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.is_open:  # closed while the library was opening: nothing to save or stop yet
            super().closeEvent(event)
            return
        self.prefs = replace(
            self.prefs,
            window_geometry=bytes(self.saveGeometry().data()),
            splitter_state=bytes(self.parts.splitter.saveState().data()),
            thumbnail_size=self.parts.results_view.iconSize().width(),
        )
        try:
            save_prefs(self.library.paths, self.prefs)
        except EnvironmentFault as exc:  # a lost window layout must not stop the app from closing
            log_exception(self.library.paths, exc)
        self.parts.indexing.stop_watching()
        self.parts.runner.cancel_all()  # the composition root waits for the runner after the event loop ends
        self.parts.viewer.close()
        super().closeEvent(event)
