"""Shared fixtures: a temporary Photosift home, photo factories, the shared photo folders, a
deterministic fake encoder whose right answers are known (colour in, colour axis out), and a synchronous
task runner for GUI tests."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pytest
from PIL import Image

if TYPE_CHECKING:  # Qt and the library only for the tests that use them
    from photosift.app.tasks import TaskRunner
    from photosift.core.library import Library

T = TypeVar("T")

# Qt renders offscreen in tests; set before any Qt import (pytest-qt imports Qt lazily).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEST_MODELS = Path(__file__).resolve().parent / "models"


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
