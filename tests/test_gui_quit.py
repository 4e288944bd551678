"""Quitting: the app does not wait for background work whose result is thrown away (a 7-9 s wait for the
tokenizer warm-up's torch import after a quick close), and a quit in the middle of indexing leaves a
catalog and an index that are consistent at the next start; benchmarks/bench_window.py times it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_colour_classes
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from test_library import open_library

from photosift.app.gui.app import shut_down
from photosift.app.gui.main_window import MainWindow
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library
from photosift.core.settings import Paths, Settings, save_settings


@pytest.fixture
def library(home: Path) -> Iterator[Library]:
    library = open_library(home)
    yield library
    library.close()


def test_quitting_does_not_wait_for_a_read_whose_result_is_thrown_away(qtbot: QtBot, library: Library) -> None:
    runner = TaskRunner(library)
    window = MainWindow(library, runner)
    qtbot.addWidget(window)
    started, release = threading.Event(), threading.Event()

    def slow_read(_: Library) -> None:  # stands in for the tokenizer warm-up's torch import
        started.set()
        release.wait(30)

    runner.run_op(slow_read, lambda _: None)
    assert started.wait(10)
    begun = time.perf_counter()
    closed = shut_down(window.parts.state, window.parts.thumbnails, wait_ms=100)
    waited = time.perf_counter() - begun
    release.set()
    # Before, shutting down waited for every read to end (here 30 s); the library stays open while one runs.
    assert waited < 10 and not closed
    assert library.status().photos == 0  # still open: nothing was closed under the read
    assert runner.shutdown()  # the read has ended now; the fixture closes the library


def test_quitting_with_nothing_running_closes_the_library(qtbot: QtBot, library: Library) -> None:
    runner = TaskRunner(library)
    window = MainWindow(library, runner)
    qtbot.addWidget(window)
    assert shut_down(window.parts.state, window.parts.thumbnails, wait_ms=-1)
    assert not window.parts.state.text_reading.running


# Run as `photosift` runs the window (run_gui, then end_process), over the fake colour model slowed to a
# CPU's pace (no torch to import), with no wait for work in progress: the window closes at the first
# batch indexed, and the process ends while the run is still going.
QUIT_DURING_INDEXING = r"""
import json, sys, time
sys.path.insert(0, {tests!r})
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from conftest import FakeEncoder
from test_library import open_library
import photosift.app.gui.app as gui_app
from photosift.app.gui.main_window import MainWindow
from photosift.app.main import end_process
from photosift.core.settings import Paths, load_settings

class CpuPacedEncoder(FakeEncoder):
    def encode_images(self, batch):
        time.sleep(0.05)
        return super().encode_images(batch)

app = QApplication(sys.argv[:1])
real_shut_down = gui_app.shut_down

def shut_down_at_once(state, thumbnails, wait_ms=0):
    closed = real_shut_down(state, thumbnails, 0)
    print(json.dumps({{"closed": closed}}), flush=True)
    return closed

def close_when_indexing(progress):
    if progress.stage == "index" and progress.done and window().isVisible():
        print(json.dumps({{"done": progress.done, "total": progress.total}}), flush=True)
        window().close()

def window():
    return next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))

gui_app.build_library = lambda paths, settings, model: open_library(paths.root, CpuPacedEncoder(), settings)
gui_app.shut_down = shut_down_at_once
def watch_progress():
    window().parts.runner.progress.connect(close_when_indexing)

# The window's frame shows first; its runner exists once the library has opened.
QTimer.singleShot(0, lambda: window().opened.connect(watch_progress))
paths = Paths.default()
end_process(gui_app.run_gui(paths, load_settings(paths)))
"""

PHOTOS = 300  # about a second's indexing at the fake's pace: still running when the window closes


def test_a_quit_during_indexing_leaves_a_consistent_library(tmp_path: Path, home: Path) -> None:
    save_settings(Paths(home), Settings())
    with open_library(home) as library:
        library.add_folder(make_colour_classes(tmp_path / "photos", per_class=PHOTOS // 3))
    child = subprocess.run(
        [sys.executable, "-c", QUIT_DURING_INDEXING.format(tests=str(Path(__file__).parent))],
        capture_output=True,
        text=True,
        env=os.environ | {"PHOTOSIFT_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"},
        timeout=300,
    )
    assert child.returncode == 0, child.stderr
    closing, shut = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    assert closing["done"] < closing["total"] == PHOTOS  # the window closed during the run
    assert not shut["closed"]  # and the process ended without waiting for the run to stop

    with open_library(home) as library:
        with library.catalog.engine.connect() as db:
            assert db.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        status = library.status()
        assert status.photos == PHOTOS and status.embedded < PHOTOS
        # The index answers with exactly the photos the catalog has embeddings of, none lost or extra.
        assert len(library.search("red", limit=PHOTOS).hits) == status.embedded
        assert library.index().embedded == PHOTOS - status.embedded
        assert len(library.search("red", limit=PHOTOS).hits) == PHOTOS
    assert not list(Path(home).rglob("*.tmp*"))  # no half-written file left behind
