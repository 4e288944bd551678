"""The indexing pipeline: decode ahead on a bounded pool, embed in batches on one model worker,
write each batch on a writer thread.

The three stages overlap: while the model runs batch n, decoders prepare batch n+1 and the writer
stores batch n-1. Every batch is committed on its own, so a run killed at any moment loses at most
the batches in flight; the photos without an embedding are simply still pending next time.

A photo whose file is gone (moved, renamed, its drive unplugged mid-run) is neither embedded nor failed:
it stays pending, and the next scan that finds the file (a move keeps the photo) lets it be embedded.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from photosift.core.catalog.records import PhotoResult
from photosift.core.errors import FileMissingError, ImageError
from photosift.core.imageio import PhotoMetadata, load_image
from photosift.core.parallel import map_ahead
from photosift.core.progress import CancelToken, Progress, ProgressCallback, no_progress

# Decoded batches allowed to wait for the model: enough to absorb uneven decode times, small enough
# that memory stays bounded (a 384px batch of 128 is ~230 MB of float32).
PREFETCH_BATCHES = 2
# Batches allowed to wait for the writer before the model worker blocks.
WRITE_QUEUE_BATCHES = 2


class ImageEncoder(Protocol):
    """What the pipeline needs of a model (core.models.encoder.Encoder, or a fake in tests)."""

    @property
    def min_side(self) -> int: ...

    def preprocess(self, img: Image.Image) -> np.ndarray: ...

    def encode_images(self, batch: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did."""

    embedded: int
    failed: int
    elapsed_s: float
    cancelled: bool = False
    missing: int = 0  # files gone since the scan: those photos stay pending until a scan sees them again

    @property
    def rate(self) -> float:
        return self.embedded / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class Decoded:
    photo_id: int
    metadata: PhotoMetadata | None
    pixels: np.ndarray | None
    error: str | None
    missing: bool = False


def default_decode_workers(device: str) -> int:
    """Decode threads: on a GPU the model waits for decoding, so use the cores; on a CPU they share them."""
    cores = os.cpu_count() or 2
    return max(2, cores - 1) if device != "cpu" else max(1, cores // 2 + 1)


def _decode(encoder: ImageEncoder, photo_id: int, path: str) -> Decoded:
    try:
        img, metadata = load_image(Path(path), min_side=encoder.min_side)
        return Decoded(photo_id, metadata, encoder.preprocess(img), None)
    except FileMissingError:
        return Decoded(photo_id, None, None, None, missing=True)
    except ImageError as exc:
        return Decoded(photo_id, None, None, str(exc))


def decode_ahead(
    pending: Sequence[tuple[int, str]], encoder: ImageEncoder, workers: int, lookahead: int
) -> Generator[Decoded, None, None]:
    """Decode in order on a pool, keeping at most `lookahead` photos in flight (bounded memory)."""
    return map_ahead(lambda item: _decode(encoder, *item), pending, workers, lookahead, name="decode")


class _Writer:
    """A thread that stores result batches in order; its first exception is re-raised on `close`."""

    def __init__(self, write: Callable[[list[PhotoResult]], None]) -> None:
        self._write = write
        self._queue: queue.Queue[list[PhotoResult] | None] = queue.Queue(WRITE_QUEUE_BATCHES)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="catalog-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._write(batch)
                except BaseException as exc:  # handed to the pipeline's thread, which re-raises it
                    self._error = exc

    def put(self, batch: list[PhotoResult]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(batch)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def _embed(encoder: ImageEncoder, batch: list[Decoded]) -> list[PhotoResult]:
    good = [d for d in batch if d.pixels is not None]
    results = [PhotoResult(d.photo_id, error=d.error) for d in batch if d.pixels is None]
    if good:
        vectors = encoder.encode_images(np.stack([d.pixels for d in good if d.pixels is not None]))
        results += [PhotoResult(d.photo_id, d.metadata, v) for d, v in zip(good, vectors, strict=True)]
    return results


def embed_photos(
    pending: Sequence[tuple[int, str]],
    encoder: ImageEncoder,
    write: Callable[[list[PhotoResult]], None],
    *,
    batch_size: int = 16,
    workers: int = 2,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> IndexReport:
    """Embed `pending` (photo id, path) pairs, handing each finished batch to `write`.

    Per-photo failures (unreadable, not an image, too large) become results with an error; they
    never stop the run. Cancellation stops after the batch in flight; what was written stays.
    """
    start = time.perf_counter()
    embedded = failed = missing = 0
    writer = _Writer(write)
    batch: list[Decoded] = []
    cancelled = False
    try:
        stream = decode_ahead(pending, encoder, workers, batch_size * PREFETCH_BATCHES)
        for decoded in stream:
            if cancel is not None and cancel.cancelled:
                cancelled = True
                break
            if decoded.missing:
                missing += 1
                continue
            batch.append(decoded)
            if len(batch) == batch_size:
                results, batch = _embed(encoder, batch), []
                writer.put(results)
                embedded, failed = _tally(results, embedded, failed)
                _report(progress, embedded + failed + missing, len(pending), start)
        if batch and not cancelled:
            results = _embed(encoder, batch)
            writer.put(results)
            embedded, failed = _tally(results, embedded, failed)
        stream.close()
    finally:
        writer.close()
    _report(progress, embedded + failed + missing, len(pending), start)
    return IndexReport(embedded, failed, time.perf_counter() - start, cancelled, missing)


def _tally(results: list[PhotoResult], embedded: int, failed: int) -> tuple[int, int]:
    ok = sum(1 for r in results if r.error is None)
    return embedded + ok, failed + len(results) - ok


def _report(progress: ProgressCallback, done: int, total: int, start: float) -> None:
    elapsed = time.perf_counter() - start
    rate = done / elapsed if elapsed > 0 and done else None
    eta = (total - done) / rate if rate else None
    progress(Progress("index", done, total, rate, eta))
