"""The OCR pass: after indexing, read the text of the photos the gate picks, one photo at a time, in the
background.

It runs after the embeddings are written and the vector index saved, so it never delays the first search;
it takes no library lock (each photo's outcome is one short transaction, so a scan, an indexing run or
another process's pass can run beside it; two passes at once only repeat some work). A cancel stops after
the photo in progress: what was read stays, the rest is still pending next time (resuming is free).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from photosift.core.catalog import Catalog
from photosift.core.errors import FileMissingError, ImageError
from photosift.core.imageio import load_image
from photosift.core.ocr import MODES as MODES
from photosift.core.ocr import store
from photosift.core.ocr.engine import MAX_SIDE, TextEngine
from photosift.core.ocr.gate import GatePrompts
from photosift.core.parallel import map_ahead
from photosift.core.progress import CancelToken, Progress, ProgressCallback

GATE_CHUNK = 4096  # embeddings gated at a time: (4096, 1152) float32 is 19 MB
DECODE_AHEAD = 2  # photos decoded ahead of the engine by one thread: reading one takes far longer


@dataclass(frozen=True)
class OcrReport:
    """What one OCR pass did: photos read (`with_text` of them held text), left out by the gate, failed."""

    read: int
    with_text: int
    unlikely: int
    failed: int
    elapsed_s: float
    cancelled: bool = False

    @property
    def rate(self) -> float:
        """Photos read per second."""
        return self.read / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class _Decoded:
    photo_id: int
    image: Image.Image | None
    error: str | None


def read_pending(
    catalog: Catalog,
    model_id: int,
    gate: GatePrompts,
    engine: TextEngine,
    mode: str,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> OcrReport:
    """Gate and read every embedded photo OCR has not looked at (see the module docstring).

    Args:
        mode: "likely" reads the photos the gate picks and records the others as unlikely; "all" reads
            every photo, those the gate left out before too; "off" does nothing.
    """
    start = time.perf_counter()
    if mode == "off":
        return OcrReport(0, 0, 0, 0, 0.0)
    todo = store.pending(catalog.engine, model_id, with_unlikely=mode == "all")
    unlikely = 0
    if mode == "likely":
        todo, unlikely = _gated(catalog, model_id, gate, todo)
    read = with_text = failed = 0
    cancelled = False
    progress(Progress("ocr", 0, len(todo)))
    for decoded in _decode_ahead(todo):
        if cancel is not None and cancel.cancelled:
            cancelled = True
            break
        row = _read(engine, decoded)
        store.save(catalog.engine, [row])
        failed += row.status == "failed"
        read += row.status != "failed"
        with_text += row.status == "text"
        _report(progress, read + failed, len(todo), start)
    return OcrReport(read, with_text, unlikely, failed, time.perf_counter() - start, cancelled)


def _gated(
    catalog: Catalog, model_id: int, gate: GatePrompts, todo: Sequence[tuple[int, str]]
) -> tuple[list[tuple[int, str]], int]:
    """The photos the gate picks; the others are recorded as unlikely (so the next pass skips them)."""
    kept: list[tuple[int, str]] = []
    unlikely = 0
    for i in range(0, len(todo), GATE_CHUNK):
        chunk = dict(todo[i : i + GATE_CHUNK])
        ids, vectors = catalog.embeddings(model_id, list(chunk))
        if not len(ids):
            continue
        picked = dict(zip((int(i) for i in ids), gate.likely_text(vectors).tolist(), strict=True))
        left_out = [photo_id for photo_id, keep in picked.items() if not keep]
        kept += [(photo_id, chunk[photo_id]) for photo_id, keep in picked.items() if keep]
        store.save(catalog.engine, [store.TextRow(photo_id, "unlikely", model_id=model_id) for photo_id in left_out])
        unlikely += len(left_out)
    return kept, unlikely


def _decode_ahead(todo: Sequence[tuple[int, str]]) -> Iterator[_Decoded]:
    stream = map_ahead(lambda item: _decode(*item), todo, 1, DECODE_AHEAD, name="ocr-decode")
    try:
        yield from (decoded for decoded in stream if decoded is not None)
    finally:
        stream.close()


def _decode(photo_id: int, path: str) -> _Decoded | None:
    """The photo at a size the engine uses whole (a JPEG decodes at a reduced scale); None when its file is
    gone (it stays pending, as in indexing)."""
    try:
        image, _ = load_image(Path(path), min_side=MAX_SIDE * 3 // 4)
        return _Decoded(photo_id, image, None)
    except FileMissingError:
        return None
    except ImageError as exc:
        return _Decoded(photo_id, None, str(exc))


def _read(engine: TextEngine, decoded: _Decoded) -> store.TextRow:
    if decoded.image is None:
        return store.TextRow(decoded.photo_id, "failed")
    found = engine.read(decoded.image)
    return store.TextRow(decoded.photo_id, "text" if found.lines else "none", found.text)


def _report(progress: ProgressCallback, done: int, total: int, start: float) -> None:
    elapsed = time.perf_counter() - start
    rate = done / elapsed if elapsed > 0 and done else None
    progress(Progress("ocr", done, total, rate, (total - done) / rate if rate else None))
