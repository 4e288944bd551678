"""Preferences only the desktop app cares about (thumbnail size, theme, window layout), and applying the theme.

They live in `gui.json` beside the core settings file, not in `core.settings`: the core and the command
line never need them. QSettings is not used because it writes to the platform's own locations (the
registry, ~/.config), which `PHOTOSIFT_HOME` would not redirect, so tests would touch the real user's files.

A missing or damaged file gives the defaults: losing a window layout is better than an app that won't start.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from photosift.core.atomic import write_text
from photosift.core.settings import Paths

PREFS_FILE = "gui.json"
PREFS_SCHEMA_VERSION = 1
THEMES = ("system", "light", "dark")
THUMBNAIL_MIN = 96  # below this a photo is hard to recognise
THUMBNAIL_MAX = 320  # above this a laptop screen shows too few results to scan at a glance
THUMBNAIL_DEFAULT = 160  # about 6 columns in a 1100 px window

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GuiPrefs:
    """UI-only preferences.

    Attributes:
        thumbnail_size: side of a result's icon in the grid, in pixels (THUMBNAIL_MIN..THUMBNAIL_MAX).
        window_geometry: `QMainWindow.saveGeometry()` bytes, or None before the first close.
        window_state: `QMainWindow.saveState()` bytes (toolbars, docks), or None.
        splitter_state: `QSplitter.saveState()` bytes, or None.
        theme: "system" follows the OS; "light" and "dark" force a colour scheme.
        show_names: every photo's name (and score) below it in the grid; otherwise they show on hover.
    """

    thumbnail_size: int = THUMBNAIL_DEFAULT
    window_geometry: bytes | None = None
    window_state: bytes | None = None
    splitter_state: bytes | None = None
    theme: str = "system"
    show_names: bool = False

    def __post_init__(self) -> None:
        if not THUMBNAIL_MIN <= self.thumbnail_size <= THUMBNAIL_MAX:
            raise ValueError(f"thumbnail_size must be {THUMBNAIL_MIN}..{THUMBNAIL_MAX}, not {self.thumbnail_size}")
        if self.theme not in THEMES:
            raise ValueError(f"theme must be one of {', '.join(THEMES)}, not {self.theme!r}")


_BYTES_FIELDS = ("window_geometry", "window_state", "splitter_state")


def load_prefs(paths: Paths) -> GuiPrefs:
    """Read `gui.json`; a missing, unreadable or invalid file or field falls back to the default (logged)."""
    file = paths.root / PREFS_FILE
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return GuiPrefs()
    except (OSError, ValueError) as exc:
        logger.warning("Ignoring the GUI preferences file %s: %s", file, exc)
        return GuiPrefs()
    if not isinstance(raw, dict):
        logger.warning("Ignoring the GUI preferences file %s: it does not hold a JSON object", file)
        return GuiPrefs()
    values: dict[str, Any] = {}
    for name, parse in _PARSERS.items():
        if name in raw:
            try:
                values[name] = parse(raw[name])
            except (TypeError, ValueError, binascii.Error) as exc:
                logger.warning("Ignoring %r in %s: %s", name, file, exc)
    return GuiPrefs(**values)


def save_prefs(paths: Paths, prefs: GuiPrefs) -> None:
    """Write `gui.json` atomically (a crash mid-write leaves the old file intact).

    Raises:
        EnvironmentFault: the file could not be written (disk full, no permission).
    """
    file = paths.root / PREFS_FILE
    data: dict[str, Any] = {
        "schema_version": PREFS_SCHEMA_VERSION,
        "thumbnail_size": prefs.thumbnail_size,
        "theme": prefs.theme,
        "show_names": prefs.show_names,
    }
    for name in _BYTES_FIELDS:
        value = getattr(prefs, name)
        data[name] = None if value is None else base64.b64encode(value).decode("ascii")
    write_text(file, json.dumps(data, indent=2), "the window preferences")


def _thumbnail_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, not {value!r}")
    if not THUMBNAIL_MIN <= value <= THUMBNAIL_MAX:
        raise ValueError(f"{value} is outside {THUMBNAIL_MIN}..{THUMBNAIL_MAX}")
    return value


def _theme(value: object) -> str:
    if value not in THEMES:
        raise ValueError(f"unknown theme {value!r}")
    return str(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, not {value!r}")
    return value


def _optional_bytes(value: object) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected base64 text, not {type(value).__name__}")
    return base64.b64decode(value, validate=True)


_PARSERS: dict[str, Callable[[object], Any]] = {
    "thumbnail_size": _thumbnail_size,
    "theme": _theme,
    "show_names": _flag,
    **dict.fromkeys(_BYTES_FIELDS, _optional_bytes),
}


def apply_theme(app: QApplication, theme: str) -> None:
    """Make the app follow the OS colour scheme ("system") or force "light" or "dark".

    Qt 6.8's `QStyleHints.setColorScheme` is asked first: where the platform honours it (Windows, macOS,
    GNOME), native widgets keep their native look. Where it does not (other Linux desktops, the offscreen
    platform), the scheme is forced with the Fusion style and an explicit palette, since native styles
    such as windowsvista ignore palettes. Going back to "system" drops the explicit palette; the Fusion
    style, if it had to be set, stays until the next start.
    """
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}, not {theme!r}")
    hints = app.styleHints()
    if theme == "system":
        hints.unsetColorScheme()
        app.setPalette(QPalette())  # an empty palette resolves every role from the platform's palette
        return
    wanted = Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light
    hints.setColorScheme(wanted)
    if hints.colorScheme() == wanted:
        app.setPalette(QPalette())  # drop a palette forced earlier, so the platform's own one shows
        return
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(_dark_palette() if theme == "dark" else app.style().standardPalette())


def _dark_palette() -> QPalette:
    """A dark palette for Fusion, with dimmed text in the Disabled group so disabled controls read as such."""
    base, window, text, dim = QColor(30, 30, 30), QColor(45, 45, 45), QColor(230, 230, 230), QColor(128, 128, 128)
    palette = QPalette(window)  # derives bevel shades (light, mid, dark, shadow) from the window colour
    role = QPalette.ColorRole
    for r, colour in (
        (role.Window, window),
        (role.WindowText, text),
        (role.Base, base),
        (role.AlternateBase, window),
        (role.ToolTipBase, window),
        (role.ToolTipText, text),
        (role.PlaceholderText, dim),
        (role.Text, text),
        (role.Button, window),
        (role.ButtonText, text),
        (role.BrightText, QColor(255, 80, 80)),
        (role.Link, QColor(90, 160, 255)),
        (role.Highlight, QColor(42, 130, 218)),
        (role.HighlightedText, QColor(255, 255, 255)),
    ):
        palette.setColor(r, colour)
    for r in (role.WindowText, role.Text, role.ButtonText, role.HighlightedText):
        palette.setColor(QPalette.ColorGroup.Disabled, r, dim)
    return palette
