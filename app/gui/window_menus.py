"""The main window's menus and keyboard shortcuts, in one place so the shortcuts help lists them all.

Photo actions are shortcuts of the results grid only (so typing "+" in the search field still types),
and they act on the selected photos.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QWidget

from photosift.app.gui.dialogs.models import open_models_dialog
from photosift.app.gui.dialogs.shortcuts import (
    GROUP_PROPERTY,
    NAVIGATION_KEYS,
    SEARCH_KEYS,
    Shortcut,
    ShortcutsDialog,
    gather_shortcuts,
    key_bindings,
)
from photosift.app.gui.dialogs.viewer import VIEWER_KEYS

if TYPE_CHECKING:
    from photosift.app.gui.window_parts import WindowParts

GRID_STEP = 32  # pixels per "larger/smaller thumbnails" step


@dataclass(frozen=True)
class WindowSlots:
    """What the menus ask of the window itself, beyond its parts."""

    choose_folder: Callable[[], None]
    choose_image: Callable[[], None]
    paste_image: Callable[[], None]
    open_settings: Callable[[], None]
    set_thumbnail_size: Callable[[int], None]
    toggle_pause: Callable[[], None]
    open_duplicates: Callable[[], None]


def build(window: QMainWindow, parts: WindowParts, slots: WindowSlots) -> None:
    """Create the menu bar and shortcuts of `window` (it owns the actions) over its `parts`."""
    bar = window.menuBar()
    _file_menu(window, parts, slots, bar.addMenu("&File"))
    _photo_menu(window, parts, bar.addMenu("&Photo"))
    _view_menu(window, parts, slots, bar.addMenu("&View"))
    _tags_menu(window, parts, bar.addMenu("&Tags"))
    _albums_menu(window, parts, bar.addMenu("&Albums"))
    _indexing_menu(window, parts, slots, bar.addMenu("&Indexing"))
    _tools_menu(window, parts, slots, bar.addMenu("&Tools"))
    _help_menu(window, parts, bar.addMenu("&Help"))
    # Down from the search field goes to the results; Esc in the results goes back to the field.
    QShortcut(
        QKeySequence(Qt.Key.Key_Down),
        parts.search_field,
        parts.results_view.setFocus,
        context=Qt.ShortcutContext.WidgetShortcut,
    )
    QShortcut(
        QKeySequence(Qt.Key.Key_Escape),
        parts.results_view,
        parts.search_field.setFocus,
        context=Qt.ShortcutContext.WidgetShortcut,
    )


def _action(
    window: QMainWindow,
    menu: QMenu,
    text: str,
    slot: Callable[[], object],
    shortcut: Shortcut | None = None,
    group: str = "Library",
    grid: QWidget | None = None,
) -> QAction:
    """A menu action; one with a `grid` is that grid's shortcut and acts on its selected photos; `group` is
    its section in F1's list."""
    action = QAction(text, window)
    action.setProperty(GROUP_PROPERTY, "Grid" if grid is not None else group)
    # Called without arguments: PySide passes `triggered`'s checked flag to any slot with an optional
    # parameter (Review suggested tags once got False as its tag name).
    action.triggered.connect(lambda: slot())
    if shortcut is not None:
        action.setShortcuts(key_bindings(shortcut))
    if grid is not None:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        grid.addAction(action)
    menu.addAction(action)
    return action


def _file_menu(window: QMainWindow, parts: WindowParts, slots: WindowSlots, menu: QMenu) -> None:
    _action(window, menu, "&Add folder…", slots.choose_folder, "Ctrl+O")
    _action(window, menu, "Find photos like an &image file…", slots.choose_image, "Ctrl+Shift+O", group="Search")
    _action(window, menu, "Find photos like the &pasted image", slots.paste_image, "Ctrl+Shift+V", group="Search")
    menu.addSeparator()
    _action(window, menu, "&Settings…", slots.open_settings, QKeySequence.StandardKey.Preferences)
    menu.addSeparator()
    _action(window, menu, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    # Ctrl+V outside the search field (where it pastes text) finds photos like the clipboard's image.
    paste = _action(
        window,
        QMenu(window),
        "Find photos like the pasted image",
        slots.paste_image,
        QKeySequence.StandardKey.Paste,
        grid=parts.results_view,
    )
    paste.setProperty(GROUP_PROPERTY, "Search")


def _photo_menu(window: QMainWindow, parts: WindowParts, menu: QMenu) -> None:
    parts.photo_actions.add_to(menu)
    menu.addSeparator()
    field = parts.search_field

    def focus_search() -> None:
        field.setFocus()
        field.selectAll()

    find = _action(
        window,
        menu,
        "&Find…",
        focus_search,
        QKeySequence.StandardKey.Find,
        group="Search",
    )
    find.setShortcuts([QKeySequence(QKeySequence.StandardKey.Find), QKeySequence("Ctrl+L")])


def _view_menu(window: QMainWindow, parts: WindowParts, slots: WindowSlots, menu: QMenu) -> None:
    view = parts.results_view

    def resize(step: int) -> Callable[[], None]:
        return lambda: slots.set_thumbnail_size(view.iconSize().width() + step)

    _action(window, menu, "&Larger thumbnails", resize(GRID_STEP), QKeySequence.StandardKey.ZoomIn)
    _action(window, menu, "&Smaller thumbnails", resize(-GRID_STEP), QKeySequence.StandardKey.ZoomOut)
    menu.addAction(view.names_action)


def _tags_menu(window: QMainWindow, parts: WindowParts, menu: QMenu) -> None:
    _action(window, menu, "&Review suggested tags…", parts.review_queue.review, "Ctrl+R")
    tags = parts.tag_actions
    _action(window, menu, "&New tag from the selection…", tags.new_tag, "Ctrl+T")
    menu.addSeparator()
    _action(window, menu, "&Tag the selection…", lambda: tags.label_selection(True), "Ctrl+Shift+T")
    _action(window, menu, "Re&move a tag from the selection…", lambda: tags.label_selection(False))


def _albums_menu(window: QMainWindow, parts: WindowParts, menu: QMenu) -> None:
    """Albums are made here or from the side panel (its "+" and context menu), not from the Tags menu."""
    albums = parts.album_actions

    def new_album() -> None:
        albums.ask_name("New album", "", albums.creator([]))

    _action(window, menu, "&New album…", new_album, "Ctrl+Shift+N")
    smart = _action(window, menu, "New &smart album from this search…", albums.save_search)
    menu.addSeparator()
    export = _action(window, menu, "&Export…", albums.export)
    delete = _action(window, menu, "&Delete…", lambda: albums.choose("Delete album", albums.confirm_delete))
    parts.sections.new_album_wanted.connect(new_album)

    def update() -> None:
        """What can be done now: a search to save, albums to export or delete."""
        smart.setEnabled(bool(parts.search.text()))
        export.setEnabled(bool(albums.albums()))
        delete.setEnabled(bool(albums.albums()))

    menu.aboutToShow.connect(update)


def _indexing_menu(window: QMainWindow, parts: WindowParts, slots: WindowSlots, menu: QMenu) -> None:
    indexing = parts.indexing
    pause = _action(window, menu, "&Pause indexing", slots.toggle_pause)
    _action(window, menu, "&Rescan all folders", lambda: indexing.request_scan(None), "F5")
    cancel = _action(window, menu, "&Cancel indexing", indexing.cancel)

    def follow(state: str) -> None:
        """Say what Pause will do (paused while idle, new photos wait too), and offer Cancel only for a run."""
        pause.setText("&Resume indexing" if state == "paused" else "&Pause indexing")
        cancel.setEnabled(state != "idle")

    indexing.state_changed.connect(follow)
    follow(indexing.state)


def _tools_menu(window: QMainWindow, parts: WindowParts, slots: WindowSlots, menu: QMenu) -> None:
    _action(window, menu, "&Personalise the model…", lambda: _open_finetune(window, parts))
    _action(window, menu, "&Models…", lambda: open_models_dialog(window, parts.state))
    _action(window, menu, "Find near-&duplicates…", slots.open_duplicates)


def _open_finetune(window: QMainWindow, parts: WindowParts) -> None:
    """The wizard and its charts (pyqtgraph: about a fifth of the window's imports) load when first opened."""
    from photosift.app.gui.finetune.wizard import open_finetune

    open_finetune(window, parts.state, parts.thumbnails)


def _help_menu(window: QMainWindow, parts: WindowParts, menu: QMenu) -> None:
    def shortcuts() -> None:
        rows = [*gather_shortcuts(window), *SEARCH_KEYS, *NAVIGATION_KEYS, *VIEWER_KEYS]
        ShortcutsDialog(rows, window).open()

    _action(window, menu, "&Welcome…", lambda: parts.first_run.open_welcome())

    _action(window, menu, "&Keyboard shortcuts", shortcuts, QKeySequence.StandardKey.HelpContents)
    _action(
        window,
        menu,
        "&About Photosift",
        lambda: QMessageBox.about(
            window, "About Photosift", "Photosift finds your photos by what is in them, on your own computer."
        ),
    )
