"""The main window: a search field, a grid of results, and indexing progress in the status bar.

Every library call goes through the `TaskRunner`: searches as read ops, adding and indexing folders as
long write ops. Results come back on the GUI thread; a search that was overtaken by a newer one is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from app.gui.progress_status import ProgressStatus
from app.gui.queries import dropped_image, query_op
from app.gui.results_model import ResultsModel
from app.gui.thumbnails import ThumbnailCache
from app.tasks import TaskRunner
from core.errors import Cancelled, UserError
from core.indexer import IndexReport
from core.library import Library, LibraryStatus
from core.progress import CancelToken, Progress, ProgressCallback
from core.search import SearchPage

DEBOUNCE_MS = 250  # typing pauses longer than this start a search; shorter ones are mid-word
FIRST_PAGE = 200  # enough to fill a large screen of thumbnails with one query
NEXT_PAGE = 200
# While indexing, the current results are refreshed at most this often: new photos show up as they are
# embedded without re-ranking the grid under the user's pointer every batch.
REFRESH_MS = 2000
ICON = QSize(160, 160)  # the thumbnails (THUMB_SIZE) scale down to this; leaves room for a gap and a name
CELL = QSize(180, 200)


class MainWindow(QMainWindow):
    results_shown = Signal()  # a page of results is in the model (the first page, or one more)
    error_shown = Signal(str)  # the inline query error changed ("" when cleared)
    indexing_finished = Signal(object)  # the IndexReport, or the exception that stopped the run

    def __init__(
        self,
        library: Library,
        runner: TaskRunner,
        thumbnails: ThumbnailCache | None = None,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
    ):
        super().__init__()
        self.library, self.runner = library, runner
        self.thumbnails = thumbnails or ThumbnailCache(library.paths.cache / "thumbnails", parent=self)
        self._open_url = open_url
        self._seq = 0  # bumped per query; answers to older queries are dropped
        self.setWindowTitle("Photosift")
        self.setAcceptDrops(True)
        self._build_search()
        self._build_results()
        self._build_status()
        self._build_actions()
        self.resize(1100, 760)
        runner.run_op(lambda lib: lib.status(), self._show_library_status, self._op_failed)

    # Building ---------------------------------------------------------------------------------------

    def _build_search(self) -> None:
        self.search_field = QLineEdit(placeholderText="Describe a photo, e.g. kids on a red slide at dusk")
        self.search_field.setAccessibleName("Search photos")
        self.search_field.setAccessibleDescription("Text, #photo-id, or an image path; results update as you type")
        self.search_field.setClearButtonEnabled(True)
        self.search_field.setAcceptDrops(False)  # a dropped image means "find similar", handled by the window
        self.error_label = QLabel()
        self.error_label.setAccessibleName("Search error")
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.run_query)
        self.search_field.textEdited.connect(lambda _: self._debounce.start())
        self.search_field.returnPressed.connect(self.run_query)

    def _build_results(self) -> None:
        self.model = ResultsModel(self.thumbnails, self)
        self.model.more_wanted.connect(self._load_more)
        view = self.results_view = QListView()
        view.setAccessibleName("Search results")
        view.setViewMode(QListView.ViewMode.IconMode)
        view.setUniformItemSizes(True)
        view.setMovement(QListView.Movement.Static)
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setIconSize(ICON)
        view.setGridSize(CELL)
        view.setDragEnabled(False)
        view.setAcceptDrops(False)
        view.viewport().setAcceptDrops(False)
        view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        view.setModel(self.model)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._context_menu)
        view.activated.connect(self._open_index)
        central = QWidget()
        layout = QVBoxLayout(central)
        for widget in (self.search_field, self.error_label, view):
            layout.addWidget(widget)
        self.setCentralWidget(central)

    def _build_status(self) -> None:
        self.summary_label = QLabel()
        self.progress_status = ProgressStatus()
        self.progress_status.cancel_button.clicked.connect(self.runner.cancel_all)
        self.statusBar().addWidget(self.summary_label, 1)
        self.statusBar().addPermanentWidget(self.progress_status)
        self.runner.progress.connect(self._on_progress)
        self.runner.busy_changed.connect(self.progress_status.set_busy)
        self._refresh = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._refresh.timeout.connect(lambda: self.run_query(keep_scroll=True))

    def _build_actions(self) -> None:
        menu = self.menuBar().addMenu("&File")
        add = QAction("&Add folder…", self, shortcut=QKeySequence("Ctrl+O"), triggered=self._choose_folder)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        menu.addActions([add, quit_action])
        find = QAction("Find", self, shortcut=QKeySequence.StandardKey.Find, triggered=self.search_field.setFocus)
        self.addAction(find)
        self.add_folder_action = add

    # Searching --------------------------------------------------------------------------------------

    def run_query(self, keep_scroll: bool = False) -> None:
        """Search for the field's text now (the debounce timer and Enter call this)."""
        self._debounce.stop()
        self._seq += 1
        seq, text = self._seq, self.search_field.text().strip()
        if not text:
            self._show_error("")
            self.model.reset(None)
            return
        limit = max(FIRST_PAGE, self.model.rowCount()) if keep_scroll else FIRST_PAGE
        self.runner.run_op(
            query_op(text, 0, limit),
            lambda page: self._first_page(seq, page, keep_scroll),
            lambda exc: self._query_failed(seq, exc),
        )

    def search_for(self, text: str) -> None:
        """Put `text` in the field and search for it at once (menus and drops: the query stays editable)."""
        self.search_field.setText(text)
        self.run_query()

    def find_similar(self, photo_id: int) -> None:
        self.search_for(f"#{photo_id}")

    def find_similar_to_file(self, path: Path) -> None:
        self.search_for(str(path))

    def _first_page(self, seq: int, page: SearchPage, keep_scroll: bool) -> None:
        if seq != self._seq:
            return
        scroll = self.results_view.verticalScrollBar().value()
        self._show_error("")
        self.model.reset(page)
        if keep_scroll:
            self.results_view.verticalScrollBar().setValue(scroll)
        elif not page.hits:
            self.statusBar().showMessage("No matching photos.", 5000)
        self.results_shown.emit()

    def _load_more(self, offset: int) -> None:
        seq, text = self._seq, self.search_field.text().strip()

        def done(page: SearchPage) -> None:
            if seq == self._seq:
                self.model.append(page)
                self.results_shown.emit()

        def failed(exc: BaseException) -> None:
            if seq == self._seq:
                self.model.loading_failed()
            self._query_failed(seq, exc)

        self.runner.run_op(query_op(text, offset, NEXT_PAGE), done, failed)

    def _query_failed(self, seq: int, exc: BaseException) -> None:
        if not isinstance(exc, UserError):
            raise exc  # a bug: the excepthook logs it and tells the user
        if seq == self._seq:
            self._show_error(str(exc))  # the last results stay: the query is probably half typed

    def _show_error(self, message: str) -> None:
        if message != self.error_label.text():
            self.error_label.setText(message)
            self.error_label.setVisible(bool(message))
            self.error_shown.emit(message)

    # Result actions ---------------------------------------------------------------------------------

    def result_menu(self, index: QModelIndex) -> QMenu:
        """The context menu for one result."""
        hit = self.model.hit(index.row())
        menu = QMenu(self)
        menu.addAction("Find similar images", lambda: self.find_similar(hit.photo_id))
        menu.addSeparator()
        menu.addAction("Open", lambda: self._open_url(QUrl.fromLocalFile(hit.path)))
        menu.addAction("Show in folder", lambda: self._open_url(QUrl.fromLocalFile(str(Path(hit.path).parent))))
        menu.addAction("Copy path", lambda: QGuiApplication.clipboard().setText(hit.path))
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        index = self.results_view.indexAt(pos)
        if index.isValid():
            menu = self.result_menu(index)
            menu.exec(self.results_view.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def _open_index(self, index: QModelIndex) -> None:
        self._open_url(QUrl.fromLocalFile(self.model.hit(index.row()).path))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_image(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_image(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.find_similar_to_file(path)

    # Folders and indexing ---------------------------------------------------------------------------

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder")
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, path: Path) -> CancelToken:
        """Add `path` to the library, then scan and index it in the background; returns the run's token."""

        def work(lib: Library, progress: ProgressCallback, cancel: CancelToken) -> IndexReport:
            lib.add_folder(path)
            lib.scan([path], progress, cancel)
            return lib.index(progress, cancel)

        return self.runner.run_long_op(work, self._indexing_done, self._indexing_failed)

    def _on_progress(self, p: Progress) -> None:
        self.progress_status.show_progress(p)
        if p.stage == "index" and p.done and not self._refresh.isActive():
            self._refresh.start()  # show the photos embedded so far, at most every REFRESH_MS

    def _indexing_done(self, report: IndexReport) -> None:
        self._refresh.stop()
        stopped = " (stopped)" if report.cancelled else ""
        unreadable = f", {report.failed} could not be read" if report.failed else ""
        self.statusBar().showMessage(f"Indexed {report.embedded} photos{unreadable}{stopped}.", 10_000)
        self._after_indexing(report)

    def _indexing_failed(self, exc: BaseException) -> None:
        self._refresh.stop()
        if not isinstance(exc, (UserError, Cancelled)):
            raise exc
        self.statusBar().showMessage("Stopped." if isinstance(exc, Cancelled) else str(exc), 15_000)
        self._after_indexing(exc)

    def _after_indexing(self, outcome: object) -> None:
        if self.search_field.text().strip():
            self.run_query(keep_scroll=True)
        self.runner.run_op(lambda lib: lib.status(), self._show_library_status, self._op_failed)
        self.indexing_finished.emit(outcome)

    def _show_library_status(self, status: LibraryStatus) -> None:
        if not status.folders:
            self.summary_label.setText("No photo folders yet: choose File ▸ Add folder…")
            return
        waiting = f", {status.pending} waiting to be indexed" if status.pending else ""
        self.summary_label.setText(f"{status.embedded} photos indexed in {len(status.folders)} folders{waiting}.")

    def _op_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, UserError):
            raise exc
        self.statusBar().showMessage(str(exc), 15_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.runner.cancel_all()  # the composition root waits for the runner after the event loop ends
        super().closeEvent(event)
