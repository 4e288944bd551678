"""The main window's parts (workers, widgets, controllers) and their wiring, built by `MainWindow.open` once
the window's frame is up.

This module imports the whole GUI and, through it, the library (SQLAlchemy, numpy, the catalog): about a
second of a cold start on a busy machine. `main_window` imports none of it, so the frame shows first
(see `app.run_gui`), and this second step fills it in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtWidgets import QLabel, QListView, QPushButton, QSplitter, QVBoxLayout, QWidget

from photosift.app.gui.controllers.first_run import FirstRun
from photosift.app.gui.controllers.grid_marks import GridMarks
from photosift.app.gui.controllers.indexing import IndexingController
from photosift.app.gui.controllers.search import SearchController
from photosift.app.gui.dialogs.review_queue import ReviewQueue
from photosift.app.gui.dialogs.viewer import Viewer
from photosift.app.gui.ops.albums import AlbumActions
from photosift.app.gui.ops.folders import confirm_remove_folder, show_failures
from photosift.app.gui.ops.marks import MarkActions, Marker
from photosift.app.gui.ops.results import file_url, show_folder
from photosift.app.gui.ops.tags import TagActions
from photosift.app.gui.photo_actions import PhotoActions
from photosift.app.gui.presenter import FailurePresenter
from photosift.app.gui.state import AppState, Changes
from photosift.app.gui.widgets.duplicates_entry import DuplicatesEntry
from photosift.app.gui.widgets.library_sections import LibrarySections, filter_term, show_menu
from photosift.app.gui.widgets.places_section import PlacesSection
from photosift.app.gui.widgets.progress_status import ElidedLabel, ProgressStatus
from photosift.app.gui.widgets.query_chips import QueryField
from photosift.app.gui.widgets.results_grid import ResultsView
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.app.gui.widgets.side_panel import SidePanel
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.app.main import ModelProvider, model_provider
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow


class WindowParts:
    """What the main window is made of over a library: its workers, widgets and controllers, built and
    connected (to each other and to the window's slots) by the constructor; nothing is run yet.

    The window keeps it as `parts` and owns every part (as its Qt parent, or through its layout); nothing
    here sets the window's own attributes (tests/test_architecture.py).
    """

    # The workers
    runner: TaskRunner
    thumbnails: ThumbnailCache
    indexing: IndexingController
    models: ModelProvider
    state: AppState
    first_run: FirstRun
    # The search and its results
    search_field: QueryField
    error_label: QLabel
    count_label: QLabel
    new_results_button: QPushButton
    results_model: ResultsModel
    results_view: ResultsView
    thumbnails_wanted: QTimer  # asks for the thumbnails of the rows on screen
    search: SearchController
    viewer: Viewer
    review_queue: ReviewQueue
    # The side panel
    side_panel: SidePanel
    sections: LibrarySections
    places: PlacesSection
    duplicates_entry: DuplicatesEntry
    album_actions: AlbumActions
    tag_actions: TagActions
    # The status bar and the layout
    summary_label: ElidedLabel
    progress_status: ProgressStatus
    splitter: QSplitter
    # What can be done with the selected photos
    photo_actions: PhotoActions
    marker: Marker
    grid_marks: GridMarks

    def __init__(
        self,
        window: MainWindow,
        library: Library,
        runner: TaskRunner,
        open_url: Callable[[QUrl], object],
        thumbnails: ThumbnailCache | None,
        controller: IndexingController | None,
        models: ModelProvider | None,
    ):
        self.runner = runner
        self.thumbnails = thumbnails or ThumbnailCache(library.paths.cache / "thumbnails", parent=window)
        self.indexing = controller or IndexingController(runner, window)
        self.models = models or model_provider(library.paths)
        self.state = AppState(runner, self.indexing, self.models, window)
        self.first_run = FirstRun(window, self.state)
        runner.set_presenter(FailurePresenter(window, window.statusBar().showMessage, self.first_run.model_missing))
        self._build_search()
        self._build_results(window, open_url)
        self._build_panel(window, open_url)
        self._build_status(window)
        self._build_layout(window)
        self._build_photo_actions(window, open_url)

    def _build_search(self) -> None:
        self.search_field = field = QueryField()
        field.setPlaceholderText("Describe a photo, e.g. kids on a red slide at dusk")
        field.setAccessibleName("Search photos")
        field.setAccessibleDescription(
            "Text, #photo-id or an image path, combined with + and -; results update as you type"
        )
        field.setAcceptDrops(False)  # a dropped image means "find similar", handled by the window
        self.error_label = QLabel(wordWrap=True)
        self.error_label.setAccessibleName("Search error")
        self.error_label.setStyleSheet("color: #d32f2f;")  # readable on light and dark backgrounds
        self.error_label.setVisible(False)

    def _build_results(self, window: MainWindow, open_url: Callable[[QUrl], object]) -> None:
        model = self.results_model = ResultsModel(self.thumbnails, window)
        view = self.results_view = ResultsView(model)
        view.setAccessibleName("Search results")
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.setDragEnabled(False)
        view.setAcceptDrops(False)
        view.viewport().setAcceptDrops(False)
        view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        # Thumbnails are asked for by the rows on screen, once per scroll, resize or new page.
        wanted = self.thumbnails_wanted = QTimer(window, singleShot=True, interval=0)
        wanted.timeout.connect(lambda: model.want_thumbnails(view.rows_on_screen()))
        for changed in (view.verticalScrollBar().valueChanged, view.verticalScrollBar().rangeChanged):
            changed.connect(lambda *_: wanted.start())
        for added in (model.rowsInserted, model.modelReset):
            added.connect(lambda *_: wanted.start())
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(window.context_menu)
        view.activated.connect(lambda index: window.open_viewer(index.row()))
        self._build_search_lines(window)
        self._build_viewers(window, open_url)

    def _build_search_lines(self, window: MainWindow) -> None:
        """The controller of the search on show, and the lines above the grid that it fills in."""
        search = self.search = SearchController(
            self.runner, self.search_field, self.error_label, self.results_view, self.results_model
        )
        self.count_label = QLabel()
        self.count_label.setAccessibleName("How many photos are shown")
        search.summary_changed.connect(self.count_label.setText)
        search.results_shown.connect(window.results_shown)
        search.error_shown.connect(window.error_shown)
        search.no_results.connect(lambda: window.statusBar().showMessage("No matching photos.", 5000))
        self.new_results_button = QPushButton("New photos may match: show them")
        self.new_results_button.setAccessibleName("Refresh results")
        self.new_results_button.setVisible(False)
        self.new_results_button.clicked.connect(lambda: search.run_query(keep_scroll=True))
        search.new_results.connect(self.new_results_button.setVisible)

    def _build_viewers(self, window: MainWindow, open_url: Callable[[QUrl], object]) -> None:
        model, view, state = self.results_model, self.results_view, self.state
        viewer = self.viewer = Viewer(model, self.runner, window)
        viewer.row_changed.connect(lambda row: view.setCurrentIndex(model.index(row, 0)))
        viewer.open_requested.connect(lambda path: open_url(file_url(path)))
        viewer.closed.connect(view.setFocus)
        viewer.tag_clicked.connect(lambda name: window.search_for(filter_term("tag", name)))
        viewer.labels_changed.connect(lambda: state.announce(Changes(tags=True)))
        # Its own cache object: every new search drops the grid's queued thumbnails, not the queue's.
        queue_cache = ThumbnailCache(self.thumbnails.cache_dir, parent=window)
        self.review_queue = ReviewQueue(self.runner, queue_cache, window)
        self.review_queue.labels_changed.connect(lambda: state.announce(Changes(tags=True)))

    def _build_panel(self, window: MainWindow, open_url: Callable[[QUrl], object]) -> None:
        panel = self.side_panel = SidePanel()
        state, runner = self.state, self.runner
        panel.add_folder_requested.connect(window.choose_folder)
        panel.remove_folder_requested.connect(lambda path: confirm_remove_folder(window, state, path))
        panel.show_failures_requested.connect(lambda path: show_failures(window, state, path))
        panel.rescan_requested.connect(lambda path: self.indexing.request_scan([path]))
        panel.open_folder_requested.connect(lambda path: show_folder(window, open_url, Path(path)))
        panel.folder_activated.connect(lambda path: window.search_for(f'folder:"{path}"'))
        sections = self.sections = LibrarySections(panel, runner, window.search_for)
        self.places = PlacesSection(panel, runner, window.search_for)
        self.duplicates_entry = DuplicatesEntry(panel, runner, window.open_duplicates)  # Tools ▸ Near-duplicates
        albums = self.album_actions = AlbumActions(window, state, self.search, self.results_model.hits, sections.albums)
        review = self.review_queue.review
        tags = self.tag_actions = TagActions(window, state, window.search_for, review, window.current_hits)
        sections.album_menu_wanted.connect(lambda album, at: show_menu(albums.album_menu(album), at))
        sections.tag_menu_wanted.connect(lambda name, at: show_menu(tags.menu(name), at))
        state.changed.connect(window.library_changed)
        state.model_switched.connect(window.model_switched)
        self.indexing.scanning.connect(panel.set_busy_folder)

    def _build_status(self, window: MainWindow) -> None:
        self.summary_label = ElidedLabel(" · ")  # a long model name ends in "…" (the whole line in its tooltip)
        progress = self.progress_status = ProgressStatus()
        progress.pause_button.clicked.connect(window.toggle_pause)
        progress.cancel_button.clicked.connect(self.indexing.cancel)
        window.statusBar().addWidget(self.summary_label, 1)
        self.state.notice.connect(lambda text: window.statusBar().showMessage(text, 15_000))
        window.statusBar().addPermanentWidget(progress)
        self.runner.progress.connect(window.on_progress)
        self.indexing.state_changed.connect(progress.set_state)
        reading = self.state.text_reading  # the OCR pass shows on the same line while indexing is idle
        reading.progress.connect(progress.show_background)
        progress.cancel_button.clicked.connect(reading.cancel)
        self.indexing.run_finished.connect(window.indexing_done)

    def _build_layout(self, window: MainWindow) -> None:
        results = QWidget()
        layout = QVBoxLayout(results)
        widgets = (
            self.first_run.bar,
            self.search_field,
            self.error_label,
            self.count_label,
            self.new_results_button,
        )
        for widget in (*widgets, self.results_view):
            layout.addWidget(widget)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.side_panel)
        self.splitter.addWidget(results)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 940])
        window.setCentralWidget(self.splitter)

    def _build_photo_actions(self, window: MainWindow, open_url: Callable[[QUrl], object]) -> None:
        view, model = self.results_view, self.results_model
        actions = self.photo_actions = PhotoActions(window, view, model, window, open_url)
        self.marker = Marker(self.runner, self.state.notice.emit, window)
        actions.groups.append(MarkActions(view, window.current_hits, self.marker, window).group)  # F, Ctrl+0-5
        self.viewer.why.attach(self.marker, lambda: self.search.shown_query)  # the query of the results on show
        self.grid_marks = GridMarks(self.runner, model, window)  # heart and star badges on the grid
        window.results_shown.connect(self.grid_marks.results_shown)
        self.marker.changed.connect(self.grid_marks.marks_changed)
