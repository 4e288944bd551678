"""The OCR pass behind `photosift watch`: new photos' text is read on a thread of its own after each
refresh's embeddings, as the window does (app.gui.controllers.text_reading).

A refresh asks the pass to stop at the next photo before it scans, so new photos become searchable
without waiting for OCR; what was read stays, and the pass that starts after the refresh resumes with the
photos still pending. Each photo's outcome is one short transaction (core.ocr.reader), so the pass needs
no lock against the refresh's writes.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

from photosift.app.cli.text import text_lines
from photosift.core.errors import Cancelled, PhotosiftError
from photosift.core.progress import CancelToken

if TYPE_CHECKING:
    from photosift.core.library import Library


class TextPass:
    """Starts the OCR pass after a refresh and stops it when the next one begins."""

    def __init__(self, library: Library, enabled: bool) -> None:
        self._library = library
        self._enabled = enabled and library.text.mode != "off"
        self._token: CancelToken | None = None
        self._thread: threading.Thread | None = None

    def stop(self) -> None:
        """Ask the pass in flight to stop after the photo in progress (not waiting for it)."""
        if self._token is not None:
            self._token.cancel()

    def start(self) -> None:
        """Start a pass over the photos not read yet, once the one asked to stop has stopped."""
        if not self._enabled:
            return
        self.stop()
        if self._thread is not None:
            self._thread.join()  # at most the photo it was reading: two passes would repeat work
        token = self._token = CancelToken()
        self._thread = threading.Thread(target=self._run, args=(token,), name="ocr-watch", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the pass and wait for the photo in progress, so the library can be closed under it."""
        self.stop()
        if self._thread is not None:
            self._thread.join()

    def _run(self, token: CancelToken) -> None:
        try:
            report = self._library.text.read_pending(cancel=token)
        except Cancelled:
            return  # a refresh began: it starts the next pass
        except PhotosiftError as exc:  # no ocr extra, a disk fault: said once; watching goes on
            print(f"photosift: {exc}", file=sys.stderr, flush=True)
            self._enabled = False
            return
        lines = text_lines(report)
        if lines:
            print("\n".join(lines), flush=True)
