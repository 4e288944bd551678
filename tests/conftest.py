"""Shared fixtures: a temporary Photosift home, photo factories, the shared photo folders, a
deterministic fake encoder whose right answers are known (colour in, colour axis out), a synchronous
task runner for GUI tests, the tiny model's onnxruntime export made once a run, and `photosift watch` in
a process of its own."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pytest
from PIL import Image

if TYPE_CHECKING:  # Qt and the library only for the tests that use them
    from pytestqt.qtbot import QtBot

    from photosift.app.gui.main_window import MainWindow
    from photosift.app.main import ModelProvider
    from photosift.app.tasks import TaskRunner
    from photosift.core.library import Library

T = TypeVar("T")

# Qt renders offscreen in tests; set before any Qt import (pytest-qt imports Qt lazily).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEST_MODELS = Path(__file__).resolve().parent / "models"
TINY_SPEC = TEST_MODELS / "tiny.json"
# A GUI test's wait for a signal or a condition; it ends as soon as that comes, so only a failing test waits
# it out. 20 s: in a whole run beside two busy processes on 2 cores, indexing 9 photos in a window took 6.8 s
# (0.3 s alone on a quiet host), and the tiny model's first build and the OCR models' first load take seconds.
WAIT_MS = 20_000
# How long a `photosift watch` process may take to say something: it imports torch and loads a model first,
# which took over 60 s on a CI host loaded by other jobs and 120 s at load 8 on 2 cores (a wait, not a sleep:
# it ends at the line).
WATCH_TIMEOUT_S = 240


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PHOTOSIFT_HOME so nothing touches the real user folders."""
    root = tmp_path / "photosift-home"
    monkeypatch.setenv("PHOTOSIFT_HOME", str(root))
    return root


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared photos not found at {SHARED_DATA}")
    return SHARED_DATA


COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220), "yellow": (230, 220, 30)}


def make_photo(path: Path, colour: str | tuple[int, int, int] = "red", size: tuple[int, int] = (64, 48)) -> Path:
    """Write a small JPEG of one colour (with a little noise so files of one colour differ)."""
    rgb = COLOURS[colour] if isinstance(colour, str) else colour
    rng = np.random.default_rng(abs(hash((str(path), rgb))) % 2**32)
    pixels = np.clip(np.array(rgb)[None, None, :] + rng.integers(-12, 12, (size[1], size[0], 3)), 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8)).save(path, "JPEG", quality=90)
    return path


def leave_partial_download(weights: Path, size: int) -> None:
    """What an interrupted download of `weights` leaves to resume: `size` bytes and the record saying where
    from (the format `core.models.download` writes)."""
    weights.parent.mkdir(parents=True, exist_ok=True)
    with weights.with_name(weights.name + ".part").open("wb") as part:
        part.truncate(size)  # sparse: a gigabyte costs no disk
    record = {"url": "https://example.invalid/w.bin", "validator": '"v1"'}
    weights.with_name(weights.name + ".part.json").write_text(json.dumps(record), encoding="utf-8")


def make_colour_classes(root: Path, per_class: int, colours: tuple[str, ...] = ("red", "green", "blue")) -> Path:
    """A folder per colour with `per_class` photos each: a labelled collection whose right answers are known."""
    for colour in colours:
        for i in range(per_class):
            make_photo(root / colour / f"{colour}-{i}.jpg", colour)
    return root


class FakeEncoder:
    """A stand-in model: an image's vector is its normalised mean colour (plus a constant axis);
    the text "red"/"green"/"blue" maps to that axis. Counts forward passes like the real encoder."""

    embed_dim = 4
    device = "cpu"
    min_side = 16

    def __init__(self) -> None:
        self.image_forward_count = 0

    def load(self, progress: object = None, cancel: object = None) -> None:
        """Nothing to download or load: the fake has no weights."""

    def prepare_bundled_tokenizer(self) -> None:
        """The fake's texts need no tokenizer."""

    def release(self) -> None:
        self.released = True

    def preprocess(self, img: Image.Image) -> np.ndarray:
        return np.asarray(img.convert("RGB").resize((16, 16)), dtype=np.float32).transpose(2, 0, 1) / 255.0

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        self.image_forward_count += len(batch)
        means = batch.mean(axis=(2, 3))
        vectors = np.concatenate([means - means.mean(axis=1, keepdims=True), np.full((len(batch), 1), 0.05)], axis=1)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        axes = {"red": 0, "green": 1, "blue": 2}
        out = np.zeros((len(texts), self.embed_dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, axes.get(text.strip().lower(), 3)] = 1.0
        return out


@pytest.fixture
def fake_encoder() -> Iterator[FakeEncoder]:
    yield FakeEncoder()


@pytest.fixture
def runner(library: Library) -> Iterator[TaskRunner]:
    """The real task runner, its threads included, over the module's own `library` fixture; shut down after.
    Tests that want each op run at once on the GUI thread define `runner` as `sync_runner(library)`."""
    from photosift.app.tasks import TaskRunner

    runner = TaskRunner(library)
    yield runner
    runner.shutdown()


def sync_runner(library: Library) -> TaskRunner:
    """A task runner for GUI tests that runs each op at once on the calling (GUI) thread and calls back
    before `run_op` returns: a test checks what an op did right after starting it, with no waiting.

    Only for ops whose timing a test does not care about: the real runner's threads are what the
    concurrency and window tests exercise. Built in a function so that tests without Qt import none.
    """
    from photosift.app.tasks import Presenter, TaskRunner

    class SyncRunner(TaskRunner):
        def run_op(
            self,
            fn: Callable[[Library], T],
            on_done: Callable[[T], None],
            on_error: Presenter | None = None,
            *,
            writes: bool = False,
        ) -> None:
            try:
                result = fn(self.library)
            except Exception as exc:  # delivered as the real runner does: to on_error, else the presenter
                (on_error or self.present)(exc)
            else:
                on_done(result)

    return SyncRunner(library)


class Opened(list):  # type: ignore[type-arg]  # of QUrl: Qt is imported only by the tests that use it
    """A fake for QDesktopServices.openUrl: remembers what would have been opened."""

    def __call__(self, url: object) -> bool:
        self.append(url)
        return True


def make_window(
    qtbot: QtBot, library: Library, models: ModelProvider | None = None
) -> tuple[MainWindow, TaskRunner, Opened]:
    """The main window over `library` with a real task runner, once its first (empty) search has shown; the
    caller shuts it down (`open_window` does)."""
    from photosift.app.gui.main_window import MainWindow
    from photosift.app.tasks import TaskRunner

    runner = TaskRunner(library)
    opened = Opened()
    window = MainWindow(library, runner, open_url=opened, models=models)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        pass  # the timeline of the empty search field, queued by the constructor
    return window, runner, opened


@contextmanager
def open_window(
    qtbot: QtBot, library: Library, models: ModelProvider | None = None
) -> Iterator[tuple[MainWindow, Opened]]:
    """`make_window`, closed when the block ends: its runner's threads and the thumbnail loads are waited
    for, so nothing of one test runs on into the next."""
    window, runner, opened = make_window(qtbot, library, models)
    try:
        yield window, opened
    finally:
        window.close()
        runner.shutdown()
        window.parts.thumbnails.wait()


@pytest.fixture
def window(qtbot: QtBot, library: Library) -> Iterator[MainWindow]:
    """The main window over the test module's own `library` fixture (each GUI module builds the library
    its tests need); a module whose window needs more set-up overrides this with `open_window`."""
    with open_window(qtbot, library) as (win, _):
        yield win


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model's verified onnxruntime export (its `models/onnx` folder), made once a test run.

    Every new data folder that loads the tiny model on the CPU runtime exports it again: 3.3 CPU-seconds
    each time, where the test is about something else. `with_tiny_export` puts this one in place instead;
    tests/test_onnx.py covers the export itself."""
    from photosift.core.models.build import build_model, load_tokenizer
    from photosift.core.models.onnx_export import export_towers
    from photosift.core.models.spec import load_spec
    from photosift.core.settings import Paths

    paths = Paths(tmp_path_factory.mktemp("tiny-export"))
    spec = load_spec(TINY_SPEC)
    export_towers(build_model(spec), spec, load_tokenizer(spec, paths.models), paths, None)
    return paths.models / "onnx"


def with_tiny_export(models: Path, exported: Path) -> None:
    """Copy the session's tiny export into the models folder `models`, as if this data folder had made it
    (a copy: a test may damage its own)."""
    shutil.copytree(exported, models / "onnx", dirs_exist_ok=True)


class WatchProcess:
    """`photosift watch` in a process of its own, its output (stdout and stderr) read line by line as it
    arrives, so a test waits for what the watcher says rather than sleeping. Use it in a `with` block: the
    process is stopped when the block ends, however it ends."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "photosift.app", "watch", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=(env or dict(os.environ)) | {"PYTHONUNBUFFERED": "1"},
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self.said: list[str] = []  # the lines `wait_for` has gone through, in order
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def __enter__(self) -> WatchProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self._reader.join(timeout=10)  # every line queued before the pipe closes under the reader
        if self.process.stdout is not None:
            self.process.stdout.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)

    def wait_for(self, text: str, timeout: float = WATCH_TIMEOUT_S) -> str:
        """The next line holding `text` (lines before it are skipped, and kept in `said`).

        Raises:
            queue.Empty: no such line within `timeout` seconds of the previous one.
        """
        while True:
            line = self._lines.get(timeout=timeout)
            self.said.append(line)
            if text in line:
                return line

    def stop(self) -> int:
        """Stop it with SIGTERM, as `kill` or a service manager does (Ctrl-C's SIGINT is ignored by a child of
        a test run started in the background), and return its exit code. It finishes the photo in hand
        first; one that does not stop in time is killed, never left running after its test."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=WATCH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
