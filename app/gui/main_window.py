"""The main window: search field, folders panel, results grid, viewer, and indexing progress.

The window wires widgets to three workers that never block it: the `TaskRunner` (every library call),
the `IndexingController` (scans, indexing, watching, model switches) and the `ThumbnailCache`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QModelIndex, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QListView,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from photosift.app.errorlog import log_exception
from photosift.app.gui import window_menus
from photosift.app.gui.controllers.first_run import FirstRun
from photosift.app.gui.controllers.grid_marks import GridMarks
from photosift.app.gui.controllers.indexing import IndexingController, RunOutcome
from photosift.app.gui.controllers.queries import dropped_image, file_query_op, pasted_image_op
from photosift.app.gui.controllers.search import SearchController
from photosift.app.gui.controllers.settings import open_settings
from photosift.app.gui.dialogs.review_queue import ReviewQueue
from photosift.app.gui.dialogs.viewer import Viewer
from photosift.app.gui.ops.albums import AlbumActions
from photosift.app.gui.ops.duplicates import open_duplicates
from photosift.app.gui.ops.folders import confirm_remove_folder, show_failures
from photosift.app.gui.ops.marks import MarkActions, Marker
from photosift.app.gui.ops.results import file_url, put_image_on_clipboard, show_folder
from photosift.app.gui.ops.tags import TagActions
from photosift.app.gui.photo_actions import PhotoActions
from photosift.app.gui.prefs import THUMBNAIL_MAX, THUMBNAIL_MIN, GuiPrefs, save_prefs
from photosift.app.gui.presenter import FailurePresenter
from photosift.app.gui.state import AppState, Changes
from photosift.app.gui.widgets.duplicates_entry import DuplicatesEntry
from photosift.app.gui.widgets.library_sections import LibrarySections, filter_term, show_menu
from photosift.app.gui.widgets.placement import centre_over
from photosift.app.gui.widgets.places_section import PlacesSection
from photosift.app.gui.widgets.progress_status import ProgressStatus
from photosift.app.gui.widgets.query_chips import QueryField
from photosift.app.gui.widgets.results_grid import ResultsView
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.app.gui.widgets.side_panel import SidePanel
from photosift.app.gui.widgets.thumbnails import ThumbnailCache, prune_thumbnails
from photosift.app.gui.widgets.viewer_images import decode_op
from photosift.app.main import ModelProvider, model_provider
from photosift.app.tasks import TaskRunner
from photosift.core.errors import Cancelled, EnvironmentFault
from photosift.core.library import Library, LibraryStatus
from photosift.core.progress import Progress
from photosift.core.search.records import SearchHit

# While indexing, the current results are refreshed at most this often: new photos show up as they are
# embedded without re-ranking the grid under the user's pointer every batch.
REFRESH_MS = 2000


class MainWindow(QMainWindow):
    results_shown = Signal()  # a page of results is in the model
    error_shown = Signal(str)  # the inline query error changed ("" when cleared)
    indexing_finished = Signal(object)  # a RunOutcome, or the exception that stopped the run
    library_status_shown = Signal(object)  # a LibraryStatus, after each refresh of the panel and summary

    def __init__(
        self,
        library: Library,
        runner: TaskRunner,
        thumbnails: ThumbnailCache | None = None,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
        prefs: GuiPrefs | None = None,
        controller: IndexingController | None = None,
        models: ModelProvider | None = None,
    ):
        super().__init__()
        self.runner = runner
        self.prefs = prefs or GuiPrefs()
        self.thumbnails = thumbnails or ThumbnailCache(library.paths.cache / "thumbnails", parent=self)
        self.indexing = controller or IndexingController(runner, self)
        self._open_url = open_url
        self.models = models or model_provider(library.paths)
        self.state = AppState(runner, self.indexing, self.models, self)
        self.first_run = FirstRun(self, self.state)
        runner.set_presenter(FailurePresenter(self, self.statusBar().showMessage, self.first_run.model_missing))
        self.setWindowTitle("Photosift")
        self.setAcceptDrops(True)
        self._build_search()
        self._build_results()
        self._build_panel()
        self._build_status()
        self._build_layout()
        self.actions_ = PhotoActions(self, open_url)
        self.marker = Marker(self.runner, self.state.notice.emit, self)
        self.actions_.groups.append(MarkActions(self, self.marker, self).group)  # F, Ctrl+0-5
        self.viewer.why.attach(self.marker, lambda: self.search.shown_query)  # the query of the results on show
        self.grid_marks = GridMarks(self.runner, self.model, self)  # heart and star badges on the grid
        self.results_shown.connect(self.grid_marks.results_shown)
        self.marker.changed.connect(self.grid_marks.marks_changed)
        window_menus.build(self)
        self.set_thumbnail_size(self.prefs.thumbnail_size)
        self.results_view.names_action.setChecked(self.prefs.show_names)
        self.results_view.names_action.toggled.connect(self._names_toggled)
        self.resize(1200, 800)
        self.run_query()  # the empty field's timeline
        self.refresh_library_status()
        self.indexing.watch()
        cache = self.thumbnails.cache_dir
        self.runner.run_op(lambda lib: prune_thumbnails(cache, lib.photo_ids()), lambda _: None)

    @property
    def library(self) -> Library:
        """The library answering searches now (a model switch replaces it)."""
        return self.runner.library

    # Building ---------------------------------------------------------------------------------------

    def _build_search(self) -> None:
        self.search_field = QueryField()
        self.search_field.setPlaceholderText("Describe a photo, e.g. kids on a red slide at dusk")
        self.search_field.setAccessibleName("Search photos")
        self.search_field.setAccessibleDescription(
            "Text, #photo-id or an image path, combined with + and -; results update as you type"
        )
        self.search_field.setAcceptDrops(False)  # a dropped image means "find similar", handled by the window
        self.error_label = QLabel(wordWrap=True)
        self.error_label.setAccessibleName("Search error")
        self.error_label.setStyleSheet("color: #d32f2f;")  # readable on light and dark backgrounds
        self.error_label.setVisible(False)

    def _build_results(self) -> None:
        self.model = ResultsModel(self.thumbnails, self)
        view = self.results_view = ResultsView(self.model)
        view.setAccessibleName("Search results")
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.setDragEnabled(False)
        view.setAcceptDrops(False)
        view.viewport().setAcceptDrops(False)
        view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        # Thumbnails are asked for by the rows on screen, once per scroll, resize or new page.
        self._thumbnails_wanted = QTimer(self, singleShot=True, interval=0)
        self._thumbnails_wanted.timeout.connect(lambda: self.model.want_thumbnails(view.rows_on_screen()))
        for changed in (view.verticalScrollBar().valueChanged, view.verticalScrollBar().rangeChanged):
            changed.connect(lambda *_: self._thumbnails_wanted.start())
        for added in (self.model.rowsInserted, self.model.modelReset):
            added.connect(lambda *_: self._thumbnails_wanted.start())
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._context_menu)
        view.activated.connect(lambda index: self.open_viewer(index.row()))
        self.search = SearchController(self.runner, self.search_field, self.error_label, view, self.model)
        self.count_label = QLabel()
        self.count_label.setAccessibleName("How many photos are shown")
        self.search.summary_changed.connect(self.count_label.setText)
        self.search.results_shown.connect(self.results_shown)
        self.search.error_shown.connect(self.error_shown)
        self.search.no_results.connect(lambda: self.statusBar().showMessage("No matching photos.", 5000))
        self.new_results_button = QPushButton("New photos may match: show them")
        self.new_results_button.setAccessibleName("Refresh results")
        self.new_results_button.setVisible(False)
        self.new_results_button.clicked.connect(lambda: self.search.run_query(keep_scroll=True))
        self.search.new_results.connect(self.new_results_button.setVisible)
        self.viewer = Viewer(self.model, self.runner, self)
        self.viewer.row_changed.connect(lambda row: view.setCurrentIndex(self.model.index(row, 0)))
        self.viewer.open_requested.connect(lambda path: self._open_url(file_url(path)))
        self.viewer.closed.connect(view.setFocus)
        self.viewer.tag_clicked.connect(lambda name: self.search_for(filter_term("tag", name)))
        self.viewer.labels_changed.connect(lambda: self.state.announce(Changes(tags=True)))
        # Its own cache object: every new search drops the grid's queued thumbnails, not the queue's.
        self.review_queue = ReviewQueue(self.runner, ThumbnailCache(self.thumbnails.cache_dir, parent=self), self)
        self.review_queue.labels_changed.connect(lambda: self.state.announce(Changes(tags=True)))

    def _build_panel(self) -> None:
        panel = self.side_panel = SidePanel()
        panel.add_folder_requested.connect(self.choose_folder)
        panel.remove_folder_requested.connect(lambda path: confirm_remove_folder(self, self.state, path))
        panel.show_failures_requested.connect(lambda path: show_failures(self, self.state, path))
        panel.rescan_requested.connect(lambda path: self.indexing.request_scan([path]))
        panel.open_folder_requested.connect(lambda path: show_folder(self, self._open_url, Path(path)))
        panel.folder_activated.connect(lambda path: self.search_for(f'folder:"{path}"'))
        self.sections = LibrarySections(panel, self.runner, self.search_for)
        self.places = PlacesSection(panel, self.runner, self.search_for)
        self.duplicates_entry = DuplicatesEntry(panel, self.runner, self._open_duplicates)  # Tools ▸ Near-duplicates
        self.albums_ = AlbumActions(self, self.state, self.search, self.model.hits, self.sections.albums)
        self.tags_ = TagActions(self, self.state, self.search_for, self.review_queue.review, self.current_hits)
        self.sections.album_menu_wanted.connect(lambda album, at: show_menu(self.albums_.album_menu(album), at))
        self.sections.tag_menu_wanted.connect(lambda name, at: show_menu(self.tags_.menu(name), at))
        self.state.changed.connect(self._changed)
        self.state.model_switched.connect(self._model_switched)
        self.indexing.scanning.connect(panel.set_busy_folder)

    def _build_status(self) -> None:
        self.summary_label = QLabel()
        self.progress_status = ProgressStatus()
        self.progress_status.pause_button.clicked.connect(self.toggle_pause)
        self.progress_status.cancel_button.clicked.connect(self.indexing.cancel)
        self.statusBar().addWidget(self.summary_label, 1)
        self.state.notice.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        self.statusBar().addPermanentWidget(self.progress_status)
        self.runner.progress.connect(self._on_progress)
        self.indexing.state_changed.connect(self.progress_status.set_state)
        reading = self.state.text_reading  # the OCR pass shows on the same line while indexing is idle
        reading.progress.connect(self.progress_status.show_background)
        self.progress_status.cancel_button.clicked.connect(reading.cancel)
        self.indexing.run_finished.connect(self._indexing_done)
        self._refresh = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._refresh.timeout.connect(self._show_indexing_so_far)

    def _build_layout(self) -> None:
        results = QWidget()
        layout = QVBoxLayout(results)
        widgets = (self.first_run.bar, self.search_field, self.error_label, self.count_label, self.new_results_button)
        for widget in (*widgets, self.results_view):
            layout.addWidget(widget)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.side_panel)
        self.splitter.addWidget(results)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 940])
        self.setCentralWidget(self.splitter)

    def set_thumbnail_size(self, size: int) -> None:
        size = max(THUMBNAIL_MIN, min(THUMBNAIL_MAX, size))
        if self.thumbnails.fit_to(size):
            self.model.icons_changed()
        self.results_view.set_line_height(size)
        self._thumbnails_wanted.start()

    # Searching --------------------------------------------------------------------------------------

    def run_query(self, keep_scroll: bool = False) -> None:
        self.search.run_query(keep_scroll)

    def search_for(self, text: str) -> None:
        """Put `text` in the field and search at once (menus, drops, pastes: the query stays editable)."""
        self.search.search_for(text)

    def query_text(self) -> str:
        return self.search.text()

    def find_similar_to_file(self, path: Path) -> None:
        self.runner.run_op(file_query_op(path), self.search_for)

    def selected_hits(self, first: QModelIndex | None = None) -> list[SearchHit]:
        """The selected results in grid order, with `first` (the clicked one) leading."""
        rows = sorted(i.row() for i in self.results_view.selectionModel().selectedIndexes())
        if first is not None and first.isValid():
            rows = [first.row(), *(r for r in rows if r != first.row())]
        return [hit for hit in map(self.model.hit_at, rows) if hit is not None]  # month headings left out

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_image(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_image(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.find_similar_to_file(path)

    def paste_image(self) -> None:
        """Find photos like the image on the clipboard (copied pixels, or a copied image file)."""
        op = pasted_image_op(QGuiApplication.clipboard().mimeData(), self.library.paths.cache / "pasted")
        if op is None:
            self.statusBar().showMessage("The clipboard holds no image.", 5000)
            return
        self.runner.run_op(op, self.find_similar_to_file)

    # Result actions ---------------------------------------------------------------------------------

    def _context_menu(self, pos: QPoint) -> None:
        index = self.results_view.indexAt(pos)
        if self.model.hit_at(index.row()) is not None:
            if not self.results_view.selectionModel().isSelected(index):
                self.results_view.setCurrentIndex(index)
            hits = self.selected_hits(index)
            menu = self.actions_.menu(hits)
            self.albums_.extend_result_menu(menu, hits)
            menu.exec(self.results_view.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def current_hits(self) -> list[SearchHit]:
        return self.selected_hits(self.results_view.currentIndex()) if self.model.rowCount() else []

    def open_viewer(self, row: int) -> None:
        """Show result `row` in the viewer window (large image, details, arrow keys to move on)."""
        self.viewer.show_row(row)
        if not self.viewer.isVisible():
            centre_over(self.viewer, self)
        self.viewer.show()
        self.viewer.raise_()
        self.viewer.activateWindow()

    def copy_image(self, hit: SearchHit) -> None:
        self.runner.run_op(decode_op(hit.path, None), lambda decoded: put_image_on_clipboard(decoded.image))

    def show_properties(self, hit: SearchHit) -> None:
        row = self.model.row_of(hit.photo_id)
        if row is not None:
            self.open_viewer(row)

    # Folders and indexing ---------------------------------------------------------------------------

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder")
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, path: Path) -> None:
        """Add `path` to the library; it is scanned, indexed and watched in the background."""
        self.indexing.add_folder(path)

    def catch_up(self) -> None:
        """Find what changed in the folders while the app was closed (a background rescan)."""
        self.indexing.catch_up()

    def open_settings(self) -> None:
        open_settings(self, self.state, self.prefs, self.apply_prefs)

    def apply_prefs(self, prefs: GuiPrefs) -> None:
        self.prefs = prefs
        self.set_thumbnail_size(prefs.thumbnail_size)
        self.results_view.names_action.setChecked(prefs.show_names)

    def _names_toggled(self, shown: bool) -> None:
        """Names below every photo or on hover only (View menu): kept with the preferences."""
        self.prefs = replace(self.prefs, show_names=shown)

    def toggle_pause(self) -> None:
        if self.indexing.state == "paused":
            self.indexing.resume()
        else:
            self.indexing.pause()

    def _on_progress(self, p: Progress) -> None:
        self.progress_status.show_progress(p)
        if p.stage == "index" and p.done and not self._refresh.isActive():
            self._refresh.start()  # show the photos embedded so far, at most every REFRESH_MS

    def _show_indexing_so_far(self) -> None:
        """New matches in the grid and the count in the status bar (it said "0 photos indexed" until
        the run ended); the side panel's tag and album counts wait for the end (smart albums search)."""
        self.search.refresh()
        self.runner.run_op(lambda lib: lib.status(), self._show_library_status)

    def _indexing_done(self, outcome: object) -> None:
        self._refresh.stop()
        if isinstance(outcome, RunOutcome):
            report = outcome.report
            stopped = " (paused)" if self.indexing.state == "paused" else " (stopped)" if report.cancelled else ""
            unreadable = f", {report.failed} could not be read" if report.failed else ""
            if report.embedded or report.failed or report.cancelled:
                self.statusBar().showMessage(f"Indexed {report.embedded} photos{unreadable}{stopped}.", 10_000)
        elif isinstance(outcome, Cancelled):
            self.statusBar().showMessage("Stopped.", 10_000)
        elif isinstance(outcome, BaseException):
            self.runner.present(outcome)
        self.search.refresh()
        self.indexing_finished.emit(outcome)

    def _model_switched(self, library: Library) -> None:
        self.statusBar().showMessage(f"Now searching with {library.spec.title}.", 10_000)

    def _changed(self, changes: Changes) -> None:
        """A write changed the library: the counts may differ, and the results when tags or albums did."""
        self.refresh_library_status()
        if (changes.tags or changes.albums) and self.search.follows_tags_or_albums():
            self.run_query(keep_scroll=True)

    def refresh_library_status(self) -> None:
        self.runner.run_op(lambda lib: lib.status(), self._show_library_status)
        self.sections.refresh(self.runner.present)
        self.places.refresh(self.runner.present)
        self.duplicates_entry.refresh(self.runner.present)

    def _open_duplicates(self) -> None:
        def refresh() -> None:  # photos were marked, or hidden or shown: the results and the count change
            self.run_query(keep_scroll=True)
            self.duplicates_entry.refresh(self.runner.present)

        open_duplicates(self, self.state, self.thumbnails.cache_dir, refresh)

    def _show_library_status(self, status: LibraryStatus) -> None:
        self.side_panel.set_folders(status.folders)
        if not status.folders:
            self.summary_label.setText("No photo folders yet: choose File ▸ Add folder… (Ctrl+O)")
        else:
            waiting = f", {status.pending:,} waiting to be indexed" if status.pending else ""
            switching = self.indexing.switching_to
            moving = f" · switching to {switching.spec.title}" if switching else ""
            full = (
                f"{status.embedded:,} photos indexed in {len(status.folders)} "
                f"folder{'s' if len(status.folders) != 1 else ''}{waiting} · "
                f"{self.library.spec.title}{moving}"
            )
            self.summary_label.setToolTip(full)
            # Beside a run's progress the whole sentence was cut off in a 900-pixel window.
            running = self.indexing.state != "idle"
            self.summary_label.setText(f"{status.embedded:,} photos indexed" if running else full)
        self.library_status_shown.emit(status)

    def restore_layout(self) -> None:
        """Put the window and panel back where the user left them (saved by `closeEvent`)."""
        if self.prefs.window_geometry:
            self.restoreGeometry(QByteArray(self.prefs.window_geometry))
        if self.prefs.splitter_state:
            self.splitter.restoreState(QByteArray(self.prefs.splitter_state))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.prefs = replace(
            self.prefs,
            window_geometry=bytes(self.saveGeometry().data()),
            splitter_state=bytes(self.splitter.saveState().data()),
            thumbnail_size=self.results_view.iconSize().width(),
        )
        try:
            save_prefs(self.library.paths, self.prefs)
        except EnvironmentFault as exc:  # a lost window layout must not stop the app from closing
            log_exception(self.library.paths, exc)
        self.indexing.stop_watching()
        self.runner.cancel_all()  # the composition root waits for the runner after the event loop ends
        self.viewer.close()
        super().closeEvent(event)
