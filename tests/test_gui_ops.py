"""The main window's ops layer: menu actions reach their slots with the right arguments, failures reach the
default presenter, and writes announce what changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot
from test_library import open_library

from photosift.app.gui.main_window import MainWindow
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library


@pytest.fixture
def library(home: Path) -> Iterator[Library]:
    library = open_library(home)
    yield library
    library.close()


WAIT_MS = 5000  # generous on a loaded 2-core machine; waits end as soon as the signal arrives


@pytest.fixture
def window(qtbot: QtBot, library: Library) -> Iterator[MainWindow]:
    runner = TaskRunner(library)
    win = MainWindow(library, runner, open_url=lambda url: True)
    qtbot.addWidget(win)
    yield win
    runner.shutdown()
    win.thumbnails.wait()


def menu_action(window: MainWindow, text: str) -> QAction:
    return next(action for action in window.findChildren(QAction) if action.text() == text)


def test_review_suggested_tags_opens_the_queue_for_every_tag(qtbot: QtBot, window: MainWindow) -> None:
    """Regression: the action's `checked` flag arrived as the tag name ('bool' object has no attribute...)."""
    action = menu_action(window, "&Review suggested tags…")
    with qtbot.waitSignal(window.review_queue.loaded, timeout=WAIT_MS):
        action.trigger()
    assert window.review_queue.isVisible() and window.review_queue.tag is None
    assert window.review_queue.tag_filter.currentData() is None
