"""The main window's menus and keyboard shortcuts, in one place so the shortcuts help lists them all.

Photo actions are shortcuts of the results grid only (so typing "+" in the search field still types),
and they act on the selected photos.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu, QMessageBox

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
from photosift.app.gui.ops.duplicates import open_duplicates

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow

GRID_STEP = 32  # pixels per "larger/smaller thumbnails" step


def build(window: MainWindow) -> None:
    """Create the menu bar and shortcuts of `window`."""
    bar = window.menuBar()
    _file_menu(window, bar.addMenu("&File"))
    _photo_menu(window, bar.addMenu("&Photo"))
    _view_menu(window, bar.addMenu("&View"))
    _tags_menu(window, bar.addMenu("&Tags"))
    _albums_menu(window, bar.addMenu("&Albums"))
    _indexing_menu(window, bar.addMenu("&Indexing"))
    _tools_menu(window, bar.addMenu("&Tools"))
    _help_menu(window, bar.addMenu("&Help"))
    # Down from the search field goes to the results; Esc in the results goes back to the field.
    QShortcut(
        QKeySequence(Qt.Key.Key_Down),
        window.search_field,
        window.results_view.setFocus,
        context=Qt.ShortcutContext.WidgetShortcut,
    )
    QShortcut(
        QKeySequence(Qt.Key.Key_Escape),
        window.results_view,
        window.search_field.setFocus,
        context=Qt.ShortcutContext.WidgetShortcut,
    )


def _action(
    window: MainWindow,
    menu: QMenu,
    text: str,
    slot: Callable[[], object],
    shortcut: Shortcut | None = None,
    grid_only: bool = False,
    group: str = "Library",
) -> QAction:
    """A menu action; `grid_only` ones act on the selected photos; `group` is its section in F1's list."""
    action = QAction(text, window)
    action.setProperty(GROUP_PROPERTY, "Grid" if grid_only else group)
    # Called without arguments: PySide passes `triggered`'s checked flag to any slot with an optional
    # parameter (Review suggested tags once got False as its tag name).
    action.triggered.connect(lambda: slot())
    if shortcut is not None:
        action.setShortcuts(key_bindings(shortcut))
    if grid_only:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        window.results_view.addAction(action)
    menu.addAction(action)
    return action


def _file_menu(window: MainWindow, menu: QMenu) -> None:
    _action(window, menu, "&Add folder…", window.choose_folder, "Ctrl+O")
    _action(window, menu, "Find photos like the &pasted image", window.paste_image, "Ctrl+Shift+V", group="Search")
    menu.addSeparator()
    _action(window, menu, "&Settings…", window.open_settings, QKeySequence.StandardKey.Preferences)
    menu.addSeparator()
    _action(window, menu, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    # Ctrl+V outside the search field (where it pastes text) finds photos like the clipboard's image.
    paste = _action(
        window,
        QMenu(window),
        "Find photos like the pasted image",
        window.paste_image,
        QKeySequence.StandardKey.Paste,
        True,
    )
    paste.setProperty(GROUP_PROPERTY, "Search")


def _photo_menu(window: MainWindow, menu: QMenu) -> None:
    window.actions_.add_to(menu)
    menu.addSeparator()
    find = _action(
        window,
        menu,
        "&Find…",
        lambda: (window.search_field.setFocus(), window.search_field.selectAll()),
        QKeySequence.StandardKey.Find,
        group="Search",
    )
    find.setShortcuts([QKeySequence(QKeySequence.StandardKey.Find), QKeySequence("Ctrl+L")])


def _view_menu(window: MainWindow, menu: QMenu) -> None:
    def resize(step: int) -> Callable[[], None]:
        return lambda: window.set_thumbnail_size(window.results_view.iconSize().width() + step)

    _action(window, menu, "&Larger thumbnails", resize(GRID_STEP), QKeySequence.StandardKey.ZoomIn)
    _action(window, menu, "&Smaller thumbnails", resize(-GRID_STEP), QKeySequence.StandardKey.ZoomOut)
    menu.addAction(window.results_view.names_action)


def _tags_menu(window: MainWindow, menu: QMenu) -> None:
    _action(window, menu, "&Review suggested tags…", window.review_queue.review, "Ctrl+R")
    _action(window, menu, "&New tag from the selection…", window.tags_.new_tag, "Ctrl+T")


def _albums_menu(window: MainWindow, menu: QMenu) -> None:
    """Albums are made here or from the side panel (its "+" and context menu), not from the Tags menu."""
    albums = window.albums_
    _action(window, menu, "&New album…", lambda: new_album(window), "Ctrl+Shift+N")
    smart = _action(window, menu, "New &smart album from this search…", albums.save_search)
    menu.addSeparator()
    export = _action(window, menu, "&Export…", albums.export)
    delete = _action(window, menu, "&Delete…", lambda: albums.choose("Delete album", albums.confirm_delete))
    window.sections.new_album_wanted.connect(lambda: new_album(window))

    def update() -> None:
        """What can be done now: a search to save, albums to export or delete."""
        smart.setEnabled(bool(window.query_text()))
        export.setEnabled(bool(albums.albums()))
        delete.setEnabled(bool(albums.albums()))

    menu.aboutToShow.connect(update)


def new_album(window: MainWindow) -> None:
    window.albums_.ask_name("New album", "", window.albums_.creator([]))


def _indexing_menu(window: MainWindow, menu: QMenu) -> None:
    _action(window, menu, "&Pause or resume", window.toggle_pause)
    _action(window, menu, "&Rescan all folders", lambda: window.indexing.request_scan(None), "F5")
    _action(window, menu, "&Cancel", window.indexing.cancel)


def _tools_menu(window: MainWindow, menu: QMenu) -> None:
    _action(window, menu, "&Personalise the model…", lambda: _open_finetune(window))
    _action(window, menu, "&Models…", lambda: open_models_dialog(window, window.state))
    _action(window, menu, "Find near-&duplicates…", lambda: _open_duplicates(window))


def _open_finetune(window: MainWindow) -> None:
    """The wizard and its charts (pyqtgraph: about a fifth of the window's imports) load when first opened."""
    from photosift.app.gui.finetune.wizard import open_finetune

    open_finetune(window, window.state, window.thumbnails)


def _open_duplicates(window: MainWindow) -> None:
    open_duplicates(window, window.state, window.thumbnails.cache_dir, lambda: window.run_query(keep_scroll=True))


def _help_menu(window: MainWindow, menu: QMenu) -> None:
    def shortcuts() -> None:
        rows = [*gather_shortcuts(window), *SEARCH_KEYS, *NAVIGATION_KEYS, *VIEWER_KEYS]
        ShortcutsDialog(rows, window).open()

    _action(window, menu, "&Welcome…", lambda: window.first_run.open_welcome())

    _action(window, menu, "&Keyboard shortcuts", shortcuts, QKeySequence.StandardKey.HelpContents)
    _action(
        window,
        menu,
        "&About Photosift",
        lambda: QMessageBox.about(
            window, "About Photosift", "Photosift finds your photos by what is in them, on your own computer."
        ),
    )
