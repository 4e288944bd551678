"""Progress as JSON lines on stdout: the GUI reads them from a QProcess, scripts from a pipe."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO


class JsonLines:
    """Writes one JSON object per line, flushed at once, each with the event name and a timestamp."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout

    def __call__(self, event: str, **fields: Any) -> None:
        record = {"event": event, "time": round(time.time(), 3), **fields}
        self._stream.write(json.dumps(record, default=str) + "\n")
        self._stream.flush()
