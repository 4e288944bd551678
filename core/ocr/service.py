"""Recognised text as the library offers it: the background pass, the `text:` filter, the words a plain
query blends in, and one photo's text for the viewer."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from photosift.core.catalog import Catalog
from photosift.core.errors import Cancelled, UserError
from photosift.core.ocr import store
from photosift.core.ocr.engine import TextEngine
from photosift.core.ocr.gate import GatePrompts
from photosift.core.ocr.reader import MODES, OcrReport, read_pending
from photosift.core.progress import CancelToken, ProgressCallback, no_progress

# Words shorter than this do not blend into plain queries: "a", "of" and "at" are inside most text.
BLEND_MIN_LETTERS = 3


class TextService:
    """One model's view of the text in photos (the gate reads that model's embeddings)."""

    def __init__(
        self,
        catalog: Catalog,
        model_id: int,
        encode_texts: Callable[[list[str]], np.ndarray],
        mode: str,
        engine: TextEngine | None = None,
    ) -> None:
        if mode not in MODES:
            raise UserError(f"The ocr setting is {mode!r}; it can be {', '.join(MODES)}.")
        self._catalog = catalog
        self._model_id = model_id
        self._gate = GatePrompts(encode_texts)
        self.engine = engine or TextEngine()  # the benchmark swaps in one with other settings
        self.mode = mode

    def read_pending(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> OcrReport:
        """Read the text of the embedded photos not looked at yet (core.ocr.reader).

        Raises:
            Cancelled: `cancel` was set; the photos read stay, `partial` is the `OcrReport`.
        """
        report = read_pending(self._catalog, self._model_id, self._gate, self.engine, self.mode, progress, cancel)
        if report.cancelled:
            raise Cancelled(partial=report)
        return report

    def pending(self) -> int:
        """Photos the next pass would look at (gated or read)."""
        if self.mode == "off":
            return 0
        return store.count_pending(self._catalog.engine, self._model_id, with_unlikely=self.mode == "all")

    def retry_failed(self) -> int:
        """Let the next pass try again the photos that could not be read (a decoder was installed)."""
        return store.retry_failed(self._catalog.engine)

    def blended_ids(self, texts: Iterable[str]) -> set[int]:
        """Photos whose recognised text holds every word of any of `texts` (a plain query's text terms),
        counting only words of BLEND_MIN_LETTERS or more."""
        found: set[int] = set()
        for value in texts:
            words = [w for w in store.query_words(value) if len(w) >= BLEND_MIN_LETTERS]
            if words:
                found |= store.photos_with_words(self._catalog.engine, words)
        return found

    def text_of(self, photo_id: int) -> str | None:
        """What OCR read from the photo ("" for nothing), or None when it has not read it."""
        return store.recognised_text(self._catalog.engine, photo_id)

    def status_of(self, photo_id: int) -> store.TextStatus | None:
        """ "text", "none", "unlikely" (the gate left it out), "failed", or None: not looked at yet."""
        return store.text_status(self._catalog.engine, photo_id)

    def counts(self) -> dict[str, int]:
        return store.counts(self._catalog.engine)
