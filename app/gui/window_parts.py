"""The main window's widgets and their wiring, built by `MainWindow.open` once the window's frame is up.

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

from photosift.app.gui import window_menus
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
from photosift.app.gui.widgets.thumbnails import ThumbnailCache, prune_thumbnails
from photosift.app.main import ModelProvider, model_provider
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow


def build(
    window: MainWindow,
    library: Library,
    runner: TaskRunner,
    open_url: Callable[[QUrl], object],
    thumbnails: ThumbnailCache | None,
    controller: IndexingController | None,
    models: ModelProvider | None,
) -> None:
    """Give `window` its workers, widgets, menus and connections over `library` (nothing is run yet)."""
    window.runner = runner
    window.thumbnails = thumbnails or ThumbnailCache(library.paths.cache / "thumbnails", parent=window)
    window.indexing = controller or IndexingController(runner, window)
    window.models = models or model_provider(library.paths)
    window.state = AppState(runner, window.indexing, window.models, window)
    window.first_run = FirstRun(window, window.state)
    runner.set_presenter(FailurePresenter(window, window.statusBar().showMessage, window.first_run.model_missing))
    _build_search(window)
    _build_results(window, open_url)
    _build_panel(window, open_url)
    _build_status(window)
    _build_layout(window)
    window.actions_ = PhotoActions(window, open_url)
    window.marker = Marker(runner, window.state.notice.emit, window)
    window.actions_.groups.append(MarkActions(window, window.marker, window).group)  # F, Ctrl+0-5
    window.viewer.why.attach(window.marker, lambda: window.search.shown_query)  # the query of the results on show
    window.grid_marks = GridMarks(runner, window.model, window)  # heart and star badges on the grid
    window.results_shown.connect(window.grid_marks.results_shown)
    window.marker.changed.connect(window.grid_marks.marks_changed)
    window_menus.build(window)


def start(window: MainWindow) -> None:
    """The first work of a built window: the empty field's timeline, the counts, watching, pruning."""
    window.run_query()
    window.refresh_library_status()
    window.indexing.watch()
    cache = window.thumbnails.cache_dir
    window.runner.run_op(lambda lib: prune_thumbnails(cache, lib.photo_ids()), lambda _: None)


def _build_search(window: MainWindow) -> None:
    window.search_field = field = QueryField()
    field.setPlaceholderText("Describe a photo, e.g. kids on a red slide at dusk")
    field.setAccessibleName("Search photos")
    field.setAccessibleDescription(
        "Text, #photo-id or an image path, combined with + and -; results update as you type"
    )
    field.setAcceptDrops(False)  # a dropped image means "find similar", handled by the window
    window.error_label = QLabel(wordWrap=True)
    window.error_label.setAccessibleName("Search error")
    window.error_label.setStyleSheet("color: #d32f2f;")  # readable on light and dark backgrounds
    window.error_label.setVisible(False)


def _build_results(window: MainWindow, open_url: Callable[[QUrl], object]) -> None:
    model = window.model = ResultsModel(window.thumbnails, window)
    view = window.results_view = ResultsView(model)
    view.setAccessibleName("Search results")
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.setDragEnabled(False)
    view.setAcceptDrops(False)
    view.viewport().setAcceptDrops(False)
    view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
    # Thumbnails are asked for by the rows on screen, once per scroll, resize or new page.
    wanted = window.thumbnails_wanted = QTimer(window, singleShot=True, interval=0)
    wanted.timeout.connect(lambda: model.want_thumbnails(view.rows_on_screen()))
    for changed in (view.verticalScrollBar().valueChanged, view.verticalScrollBar().rangeChanged):
        changed.connect(lambda *_: wanted.start())
    for added in (model.rowsInserted, model.modelReset):
        added.connect(lambda *_: wanted.start())
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    view.customContextMenuRequested.connect(window.context_menu)
    view.activated.connect(lambda index: window.open_viewer(index.row()))
    search = window.search = SearchController(window.runner, window.search_field, window.error_label, view, model)
    window.count_label = QLabel()
    window.count_label.setAccessibleName("How many photos are shown")
    search.summary_changed.connect(window.count_label.setText)
    search.results_shown.connect(window.results_shown)
    search.error_shown.connect(window.error_shown)
    search.no_results.connect(lambda: window.statusBar().showMessage("No matching photos.", 5000))
    window.new_results_button = QPushButton("New photos may match: show them")
    window.new_results_button.setAccessibleName("Refresh results")
    window.new_results_button.setVisible(False)
    window.new_results_button.clicked.connect(lambda: search.run_query(keep_scroll=True))
    search.new_results.connect(window.new_results_button.setVisible)
    viewer = window.viewer = Viewer(model, window.runner, window)
    viewer.row_changed.connect(lambda row: view.setCurrentIndex(model.index(row, 0)))
    viewer.open_requested.connect(lambda path: open_url(file_url(path)))
    viewer.closed.connect(view.setFocus)
    viewer.tag_clicked.connect(lambda name: window.search_for(filter_term("tag", name)))
    viewer.labels_changed.connect(lambda: window.state.announce(Changes(tags=True)))
    # Its own cache object: every new search drops the grid's queued thumbnails, not the queue's.
    queue_cache = ThumbnailCache(window.thumbnails.cache_dir, parent=window)
    window.review_queue = ReviewQueue(window.runner, queue_cache, window)
    window.review_queue.labels_changed.connect(lambda: window.state.announce(Changes(tags=True)))


def _build_panel(window: MainWindow, open_url: Callable[[QUrl], object]) -> None:
    panel = window.side_panel = SidePanel()
    state, runner = window.state, window.runner
    panel.add_folder_requested.connect(window.choose_folder)
    panel.remove_folder_requested.connect(lambda path: confirm_remove_folder(window, state, path))
    panel.show_failures_requested.connect(lambda path: show_failures(window, state, path))
    panel.rescan_requested.connect(lambda path: window.indexing.request_scan([path]))
    panel.open_folder_requested.connect(lambda path: show_folder(window, open_url, Path(path)))
    panel.folder_activated.connect(lambda path: window.search_for(f'folder:"{path}"'))
    window.sections = LibrarySections(panel, runner, window.search_for)
    window.places = PlacesSection(panel, runner, window.search_for)
    window.duplicates_entry = DuplicatesEntry(panel, runner, window.open_duplicates)  # Tools ▸ Near-duplicates
    window.albums_ = AlbumActions(window, state, window.search, window.model.hits, window.sections.albums)
    review = window.review_queue.review
    window.tags_ = TagActions(window, state, window.search_for, review, window.current_hits)
    window.sections.album_menu_wanted.connect(lambda album, at: show_menu(window.albums_.album_menu(album), at))
    window.sections.tag_menu_wanted.connect(lambda name, at: show_menu(window.tags_.menu(name), at))
    state.changed.connect(window.library_changed)
    state.model_switched.connect(window.model_switched)
    window.indexing.scanning.connect(panel.set_busy_folder)


def _build_status(window: MainWindow) -> None:
    window.summary_label = ElidedLabel(" · ")  # a long model name ends in "…" (the whole line in its tooltip)
    progress = window.progress_status = ProgressStatus()
    progress.pause_button.clicked.connect(window.toggle_pause)
    progress.cancel_button.clicked.connect(window.indexing.cancel)
    window.statusBar().addWidget(window.summary_label, 1)
    window.state.notice.connect(lambda text: window.statusBar().showMessage(text, 15_000))
    window.statusBar().addPermanentWidget(progress)
    window.runner.progress.connect(window.on_progress)
    window.indexing.state_changed.connect(progress.set_state)
    reading = window.state.text_reading  # the OCR pass shows on the same line while indexing is idle
    reading.progress.connect(progress.show_background)
    progress.cancel_button.clicked.connect(reading.cancel)
    window.indexing.run_finished.connect(window.indexing_done)


def _build_layout(window: MainWindow) -> None:
    results = QWidget()
    layout = QVBoxLayout(results)
    widgets = (
        window.first_run.bar,
        window.search_field,
        window.error_label,
        window.count_label,
        window.new_results_button,
    )
    for widget in (*widgets, window.results_view):
        layout.addWidget(widget)
    window.splitter = QSplitter()
    window.splitter.addWidget(window.side_panel)
    window.splitter.addWidget(results)
    window.splitter.setStretchFactor(1, 1)
    window.splitter.setSizes([260, 940])
    window.setCentralWidget(window.splitter)
