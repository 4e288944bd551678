"""What the screenshot scripts share: run the event loop until the app reaches a state, let it paint,
and save a widget (or a composed pixmap) as a PNG in docs/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow

OUT = Path(__file__).resolve().parent / "screenshots"


def wait_until(condition: Callable[[], bool], seconds: float = 180.0) -> None:
    """Run the event loop until `condition()` holds (the scripts have no test framework's waits); the
    generous default covers trainer processes on a loaded 2-core machine, and a wait ends when it holds."""
    loop, timer = QEventLoop(), QTimer(interval=20)
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    timer.start()
    if not condition():
        loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError("the app did not reach the state to photograph")


def settle(ms: int = 400) -> None:
    """Let queued work and painting happen for `ms` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def close_window(window: MainWindow) -> None:
    """Close the main window and wait for its background work before the temporary home goes away."""
    window.close()
    window.parts.runner.shutdown()
    window.parts.thumbnails.wait()
    window.library.close()


def save(widget: QWidget | QPixmap, name: str) -> None:
    pixmap = widget if isinstance(widget, QPixmap) else widget.grab()
    OUT.mkdir(parents=True, exist_ok=True)
    pixmap.save(str(OUT / f"{name}.png"))
    print(f"wrote docs/screenshots/{name}.png")
