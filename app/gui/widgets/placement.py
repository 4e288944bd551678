"""Placing widgets: where a secondary window (the viewer, the review queue) opens, over the main window
on its screen, and emptying a layout that is filled again (the wizard's comparison grid and action rows).

Left to the window manager, such windows opened at the screen's edge, often behind the main window.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLayout, QWidget


def centre_over(window: QWidget, parent: QWidget) -> None:
    """Move the top-level `window` so that it is centred over `parent`'s window, inside that screen."""
    frame = window.frameGeometry()
    frame.moveCenter(parent.window().frameGeometry().center())
    screen = parent.screen().availableGeometry()
    frame.moveLeft(max(screen.left(), min(frame.left(), screen.right() - frame.width() + 1)))
    frame.moveTop(max(screen.top(), min(frame.top(), screen.bottom() - frame.height() + 1)))
    window.move(frame.topLeft())


def clear_layout(layout: QLayout) -> None:
    """Take every item out of `layout`, deleting its widgets (later, as Qt may still be delivering to them)."""
    while (item := layout.takeAt(0)) is not None:  # None once the layout is empty
        widget = item.widget()
        if widget is not None:
            widget.deleteLater()
