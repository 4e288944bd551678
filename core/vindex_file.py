"""The vector index's file format: the FAISS serialisation, then a JSON trailer with the stamp.

One file, so index and stamp cannot disagree; writes are atomic (core.atomic).
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

from photosift.core.atomic import atomic_writer
from photosift.core.errors import EnvironmentFault


class _LazyFaiss:
    """FAISS, imported on first use: the commands that never search (status of an empty library, tag and
    album listings) skip its import. Untyped on purpose: faiss 1.15 ships stubs that miss much of its SWIG
    surface (PyCallbackIOReader/Writer, DirectMap, keyword SearchParameters, downcast index methods)."""

    def __getattr__(self, name: str) -> Any:
        import faiss as module

        return getattr(module, name)


faiss: Any = _LazyFaiss()

# Exact search reads every vector per query, ~0.17 us per 1152-d vector on 2 cores: p95 17.8 ms at 100k,
# 27.5 ms at 150k, 34.7 ms at 200k (benchmarks/bench_query.py). 150k leaves headroom under the 40 ms
# target for slower machines; beyond it the approximate index answers in a few ms in a quarter the memory.
APPROXIMATE_THRESHOLD = 150_000
# The file is the FAISS serialisation followed by a JSON trailer (stamp, dimension, payload length and
# CRC-32), the trailer's length and a magic number. One file, so index and stamp cannot disagree; the
# trailer is at the end so the index streams out without a copy in memory, and a truncated file loses
# its magic number.
_MAGIC = b"PSVINDX1"
_TAIL = struct.Struct("<Q8s")
_MAX_TRAILER_BYTES = 1 << 16
_CHUNK_BYTES = 1 << 22


def write_index_file(path: Path, index: Any, stamp: str, trained_size: int) -> None:
    """Stream the index and its trailer to `path` atomically (core.atomic).

    Raises:
        EnvironmentFault: the file could not be written (disk full, permissions).
    """
    with atomic_writer(path, "the search index") as f:
        crc, size = 0, 0

        def sink(chunk: bytes) -> None:
            nonlocal crc, size
            f.write(chunk)
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)

        faiss.write_index(index, faiss.PyCallbackIOWriter(sink))
        fields = {"stamp": stamp, "dim": int(index.d), "trained_size": trained_size}
        trailer = json.dumps({**fields, "payload_bytes": size, "crc32": crc}).encode()
        f.write(trailer + _TAIL.pack(len(trailer), _MAGIC))


def read_index_file(path: Path, expected_stamp: str, dim: int) -> tuple[Any, int] | None:
    """The index and its trained size from `path`, or None if missing, stale, of another dim, or damaged."""
    try:
        with path.open("rb") as f:
            trailer = _read_trailer(f)
            if trailer is None or trailer["stamp"] != expected_stamp or trailer["dim"] != dim:
                return None
            # Check before parsing: FAISS trusts the sizes it reads, so damaged bytes could make it
            # allocate wildly rather than fail.
            if _crc32(f, trailer["payload_bytes"]) != trailer["crc32"]:
                return None
            f.seek(0)
            return faiss.read_index(faiss.PyCallbackIOReader(f.read)), trailer["trained_size"]
    except FileNotFoundError:
        return None
    except RuntimeError:  # FAISS could not parse the payload
        return None
    except OSError as err:
        raise EnvironmentFault(f"Could not read the search index {path}: {err.strerror or err}.") from err


def index_stamp(spec_key: str, generation: int) -> str:
    """The stamp an index file of the model `spec_key` is saved with at the catalog's `generation`."""
    return f"{spec_key}:{generation}"


def file_health(path: Path, stamp: str, dim: int, embedded: int) -> tuple[bool, bool]:
    """(approximate, saved_and_current) of the index file at `path` from its trailer alone; a missing or
    stale file reads as a rebuild of `embedded` vectors would be. `photosift status` asks it without
    numpy or FAISS (core.catalog.readonly)."""
    trained = saved_trained_size(path, stamp, dim)
    if trained is None:
        return embedded > APPROXIMATE_THRESHOLD, False
    return trained > 0, True


def saved_trained_size(path: Path, expected_stamp: str, dim: int) -> int | None:
    """The trained size (0: exact) that `path` records if it was saved with `expected_stamp` and `dim`,
    else None (missing, stale, unreadable). Reads only the trailer: no checksum, no FAISS."""
    try:
        with path.open("rb") as f:
            trailer = _read_trailer(f)
    except OSError:
        return None
    if trailer is None or trailer["stamp"] != expected_stamp or trailer["dim"] != dim:
        return None
    return int(trailer["trained_size"])


def _read_trailer(f: Any) -> dict[str, Any] | None:
    size = f.seek(0, os.SEEK_END)
    if size < _TAIL.size:
        return None
    f.seek(size - _TAIL.size)
    length, magic = _TAIL.unpack(f.read(_TAIL.size))
    if magic != _MAGIC or length > min(_MAX_TRAILER_BYTES, size - _TAIL.size):
        return None
    f.seek(size - _TAIL.size - length)
    try:
        trailer = json.loads(f.read(length))
        valid = isinstance(trailer["stamp"], str) and all(
            isinstance(trailer[key], int) for key in ("dim", "trained_size", "payload_bytes", "crc32")
        )
    except (KeyError, TypeError, ValueError):  # ValueError covers bad UTF-8 and bad JSON
        return None
    if not valid or trailer["payload_bytes"] != size - _TAIL.size - length:
        return None
    return dict(trailer)


def _crc32(f: Any, length: int) -> int:
    f.seek(0)
    crc = 0
    while length > 0:
        chunk = f.read(min(length, _CHUNK_BYTES))
        if not chunk:
            break
        crc, length = zlib.crc32(chunk, crc), length - len(chunk)
    return crc
