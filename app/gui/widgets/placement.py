"""Where a secondary window (the viewer, the review queue) opens: over the main window, on its screen.

Left to the window manager, such windows opened at the screen's edge, often behind the main window.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def centre_over(window: QWidget, parent: QWidget) -> None:
    """Move the top-level `window` so that it is centred over `parent`'s window, inside that screen."""
    frame = window.frameGeometry()
    frame.moveCenter(parent.window().frameGeometry().center())
    screen = parent.screen().availableGeometry()
    frame.moveLeft(max(screen.left(), min(frame.left(), screen.right() - frame.width() + 1)))
    frame.moveTop(max(screen.top(), min(frame.top(), screen.bottom() - frame.height() + 1)))
    window.move(frame.topLeft())
