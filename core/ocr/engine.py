"""One OCR engine per process: rapidocr (PP-OCRv4 detection and recognition, Chinese and English, shipped
in its wheel) on onnxruntime, loaded lazily under a lock, fed one upright RGB image at a time.

rapidocr and OpenCV are imported only here, inside `TextEngine.read`'s first call: the CLI's start-up and
the window never pay for them, and a machine without the `ocr` extra only loses OCR.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from photosift.core.errors import UserError

# Longest side the detector sees: its cost grows with the pixels (about 1.7 s at 960 and 5 s at 1,600 on one
# busy core), and rapidocr would otherwise run a photo at up to 2,000. 1,600 keeps 12-pixel screenshot text
# (1,920 wide) legible after the downscale. Smaller images are still upscaled to rapidocr's 736-pixel
# shortest side: on bench_ocr's 640x480 images that found 16-pixel words the unscaled detector missed.
MAX_SIDE = 1600
# onnxruntime threads per session, and OpenCV's (process-wide; rapidocr is its only user here). On two
# cores a second thread gained nothing while a decode thread and the window shared the machine (measured:
# 1.7 s a photo with one thread, 2.3 s with two), and the pass runs in the background, so one thread
# leaves the other core to everything else.
THREADS = 1
# Lines the recogniser is less sure of than this are dropped (rapidocr's own default is 0.5): a stray
# line of noise in a photo of leaves would otherwise match searches.
MIN_CONFIDENCE = 0.6


@dataclass(frozen=True)
class ReadText:
    """What the engine read from one image: its lines, top to bottom, and their mean confidence."""

    lines: tuple[str, ...]
    confidence: float

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class OcrUnavailable(UserError):
    """The `ocr` extra (rapidocr, OpenCV) is not installed. With the default `ocr` setting ("likely") the
    front ends say so once and go on: the README's plain install leaves the extra out, and indexing must
    not fail, nor a dialog appear after every run, for a feature the person never asked for."""


class TextEngine:
    """rapidocr, built on first use and kept for the process (models load in about half a second)."""

    def __init__(self, threads: int = THREADS, max_side: int = MAX_SIDE) -> None:
        self._threads = threads
        self._max_side = max_side
        self._lock = threading.Lock()
        self._ocr: Any = None

    def _engine(self) -> Any:
        with self._lock:
            if self._ocr is None:
                try:
                    import cv2
                    from rapidocr_onnxruntime import RapidOCR
                except ImportError as exc:
                    raise OcrUnavailable(
                        "Reading text in photos needs the ocr extra: pip install 'photosift[ocr]'.", details=str(exc)
                    ) from exc
                # rapidocr's resizes and contour work run on OpenCV's own pool, one thread a core by
                # default, beside onnxruntime's threads and the pass's decode thread: kept to ours.
                cv2.setNumThreads(self._threads)
                self._ocr = RapidOCR(
                    intra_op_num_threads=self._threads,
                    inter_op_num_threads=1,
                    text_score=MIN_CONFIDENCE,
                )
            return self._ocr

    def read(self, image: Image.Image) -> ReadText:
        """The text in `image` (any size, RGB; it is shrunk to MAX_SIDE first)."""
        engine = self._engine()
        if max(image.size) > self._max_side:
            image = image.copy()
            image.thumbnail((self._max_side, self._max_side), Image.Resampling.BILINEAR)
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])  # OpenCV's channel order
        found, _ = engine(bgr)
        lines = [(str(text).strip(), float(score)) for _, text, score in found or ()]
        kept = [(text, score) for text, score in lines if text and score >= MIN_CONFIDENCE]
        confidence = sum(score for _, score in kept) / len(kept) if kept else 0.0
        return ReadText(tuple(text for text, _ in kept), confidence)
