"""The desktop app's entry: builds the Qt application, the library, the task runner and the main window,
and when the window closes ends their work and the process without waiting for results nobody will see."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable
from importlib import import_module
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QDeadlineTimer, QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from photosift.app.errorlog import log_exception
from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.prefs import apply_theme, load_prefs
from photosift.app.gui.presenter import FailurePresenter, failure_sentence
from photosift.app.main import build_library, model_provider
from photosift.core.errors import Cancelled
from photosift.core.settings import Paths, Settings
from photosift.resources import resource_path

if TYPE_CHECKING:
    from photosift.app.gui.state import AppState
    from photosift.app.gui.widgets.thumbnails import ThumbnailCache
    from photosift.core.library import Library

APP_ICON = resource_path("icons", "photosift.svg")
# The name of the desktop entry (packaging/linux/photosift.desktop): Wayland shells match windows to it.
DESKTOP_FILE_NAME = "photosift"
GIL_SWITCH_S = 0.0005  # measured by benchmarks/bench_gui.py; the cost is more thread switches elsewhere
# How long quitting waits for background work to stop (ms): a cancelled indexing run usually stops within
# it (it only has to reach its next checkpoint) and saves its index; longer, and a person who quit sees
# the process linger. Whatever is still running then ends with the process (see `shut_down`).
QUIT_WAIT_MS = 500


class ExceptionHook:
    """`sys.excepthook` for the GUI: a bug's traceback is logged and the user told in a dialog (GUI thread
    only). A user error or an environment fault raised on the GUI thread itself (settings that cannot be
    written when a dialog's OK is pressed) is no bug: it goes to the failure presenter, as an op's would."""

    def __init__(
        self,
        paths: Paths,
        parent: QWidget | None,
        show: Callable[[QWidget | None, str], object] | None = None,
        present: Callable[[BaseException], None] | None = None,
    ):
        self._paths, self._parent = paths, parent
        self._show = show or (lambda parent, text: QMessageBox.critical(parent, "Photosift", text))
        self._present = present or FailurePresenter(parent)

    def __call__(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        on_gui_thread = threading.current_thread() is threading.main_thread()
        if on_gui_thread and (isinstance(exc, Cancelled) or failure_sentence(exc) is not None):
            self._present(exc)
            return
        log = log_exception(self._paths, exc.with_traceback(tb))
        if on_gui_thread:
            self._show(
                self._parent,
                f"Something went wrong inside Photosift ({kind.__name__}: {exc}).\n\nDetails are in {log}.",
            )


def prefer_the_gui_thread() -> None:
    """Let the GUI thread take the GIL back within GIL_SWITCH_S while indexing threads run Python.

    Every Python callback on the GUI thread (a slot, a timer, a model method) must take the GIL first;
    with Python's default 5 ms switch interval each can wait that long behind a decode or catalog
    thread, which adds up to visible stalls while scrolling during indexing. (The results grid is
    painted without calling Python at all, see `results_model`.)
    """
    sys.setswitchinterval(GIL_SWITCH_S)


def exempt_startup_objects_from_gc() -> None:
    """Collect once, then move every object alive now out of the cyclic collector's reach (`gc.freeze`).

    After the imports (torch, Qt, SQLAlchemy, open_clip) and the window there are about half a million
    tracked objects, and a full collection walks them all holding the GIL: 210 ms on whichever thread
    triggers it, and the window froze for as long (found with `perf record` on benchmarks/bench_gui.py).
    These objects live as long as the app, so later collections need only walk what came after them.
    Call it once the library's modules are imported (`_open`), before the window's first search and
    counts start: the one collection here costs the same 210 ms, while the window shows nothing that
    could stall and no background work waits for the GIL.
    """
    gc.collect()
    gc.freeze()


def shut_down(state: AppState, thumbnails: ThumbnailCache, wait_ms: int = QUIT_WAIT_MS) -> bool:
    """End the app's background work and close the library, waiting at most `wait_ms` for work in progress;
    returns whether everything stopped and the library closed.

    Work whose result nobody will see (a search, the torch import of a tokenizer warm-up, a thumbnail)
    is not waited for past that: `end_process` lets it die with the process, which leaves the catalog
    and the index files consistent (see `AppState.close`).
    """
    deadline = QDeadlineTimer(wait_ms)
    thumbnails.drop_queued()
    closed = state.close(deadline.remainingTime())
    return thumbnails.wait(deadline.remainingTime()) and closed


class LibraryOpening(QObject):
    """Opens the library once the window's frame has been painted, off the GUI thread, and hands it to
    `open_window` on the GUI thread.

    Importing the library's modules (the catalog's SQLAlchemy, numpy, the GUI's widgets) and opening the
    catalog took most of a 3-4 s start on a busy machine, all before anything was on screen; now the
    frame shows first and stays responsive meanwhile. A failure reaches `open_window` as the exception.
    """

    _done = Signal(object)  # the Library, or the exception that stopped opening it

    def __init__(
        self, window: MainWindow, build: Callable[[], Library], open_window: Callable[[Library | BaseException], None]
    ):
        super().__init__(window)
        self._build, self._open_window = build, open_window
        self._stopped = False
        self._done.connect(self._finish)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._start)  # after the paint is on screen
        return False

    def stop(self) -> None:
        """The event loop has ended: a library opened from now on is closed, not shown (a later test's
        event loop, or nobody's)."""
        self._stopped = True

    def _start(self) -> None:
        threading.Thread(target=self._run, name="open the library", daemon=True).start()

    def _run(self) -> None:
        try:
            import_module("photosift.app.gui.window_parts")  # the imports, while the GUI thread is free
            self._done.emit(self._build())
        except BaseException as exc:  # delivered to the GUI thread, which reports it
            self._done.emit(exc)

    def _finish(self, result: Library | BaseException) -> None:
        if not self._stopped:
            self._open_window(result)
        elif not isinstance(result, BaseException):
            result.close()


def run_gui(paths: Paths, settings: Settings, model: str | None = None) -> int:
    """Open the main window (and the welcome wizard on a first start) and run until it closes.

    The window's frame shows first; the library opens in the background and `_open` fills the window in.
    A library that cannot be opened (a selected model that is gone) ends the app with that error, raised
    here for the command line to report, as before the window existed."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Photosift")
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    app.setWindowIcon(QIcon(str(APP_ICON)))
    prefer_the_gui_thread()
    prefs = load_prefs(paths)
    apply_theme(app, prefs.theme)
    window = MainWindow(prefs=prefs)
    window.restore_geometry()
    failures: list[BaseException] = []

    def open_window(result: Library | BaseException) -> None:
        if isinstance(result, BaseException):
            failures.append(result)
            window.close()
        elif window.isVisible():
            _open(window, result, paths, settings)
        else:
            result.close()  # the window was closed while the library opened

    opening = LibraryOpening(window, lambda: build_library(paths, settings, model), open_window)
    previous_hook, sys.excepthook = sys.excepthook, ExceptionHook(paths, window)
    try:
        window.show()
        code = app.exec()
    finally:
        opening.stop()
        sys.excepthook = previous_hook
        if window.is_open:
            shut_down(window.parts.state, window.parts.thumbnails)
    if failures:
        raise failures[0]
    return code


def _open(window: MainWindow, library: Library, paths: Paths, settings: Settings) -> None:
    """Build the window over `library`, then start the background work of a start."""
    from photosift.app.gui.widgets.thumbnails import ThumbnailCache
    from photosift.app.tasks import TaskRunner

    exempt_startup_objects_from_gc()  # the imports' objects, before the first search and counts start
    runner = TaskRunner(library)
    thumbnails = ThumbnailCache(library.paths.cache / "thumbnails")
    window.open(library, runner, thumbnails, models=model_provider(paths, settings.cpu_runtime))
    # The model stack (torch, open_clip: seconds to import) and a bundled tokenizer come in the
    # background once the window is up, so the first search finds them ready.
    runner.run_op(lambda lib: lib.encoder.prepare_bundled_tokenizer(), on_done=lambda _: None)
    # The welcome at a first start and while no model is usable; it catches up once a model is ready.
    if window.parts.first_run.offer_at_start() is None:
        window.catch_up()
