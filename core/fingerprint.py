"""Recognise a photo file by its bytes, so moving or renaming it keeps its index entry.

A fingerprint is cheap enough to take for every file on every scan; a content hash is exact but reads the
whole file, so it is taken only when two different files share a fingerprint.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from photosift.core.errors import ImageError

# Bytes hashed at each end of a file. Photo files differ in their first 64 KiB (EXIF capture time, camera
# serial, thumbnail) and in their last (entropy-coded pixels), so head + tail tells photos apart while
# reading at most 128 KiB, whatever the file's size: a scan of 100,000 photos stays seconds, not minutes.
EDGE_BYTES: Final = 64 * 1024
_FINGERPRINT_DIGEST_BYTES: Final = 16  # 128 bits: accidental collisions are out of reach at any library size
_CONTENT_DIGEST_BYTES: Final = 32  # 256 bits, as for any content-addressed store
_CHUNK_BYTES: Final = 1024 * 1024  # large reads keep a full-file hash near disk speed


def fingerprint(path: Path, size: int) -> str:
    """Return "<size in hex>-<blake2b of the first and last 64 KiB>", e.g. "2f1a3c-9b0e...".

    Args:
        path: the file.
        size: its size in bytes, as the scan's stat() found it; it is part of the fingerprint, so files of
            different sizes never match, and it decides whether the file is read whole.

    Raises:
        ImageError: the file cannot be read.
    """
    digest = hashlib.blake2b(digest_size=_FINGERPRINT_DIGEST_BYTES)
    try:
        with path.open("rb") as file:
            digest.update(file.read(EDGE_BYTES))
            if size > 2 * EDGE_BYTES:
                # Seek by `size`, not from the end: the fingerprint stays a function of (size, bytes), and a
                # file that changed since the scan is still read at most 128 KiB without erroring.
                file.seek(size - EDGE_BYTES)
            digest.update(file.read(EDGE_BYTES))
    except OSError as exc:
        raise ImageError(_cannot_read(exc)) from exc
    return f"{size:x}-{digest.hexdigest()}"


def content_hash(path: Path) -> str:
    """Return the blake2b hex digest of the whole file, to tell apart files that share a fingerprint.

    Raises:
        ImageError: the file cannot be read.
    """
    digest = hashlib.blake2b(digest_size=_CONTENT_DIGEST_BYTES)
    try:
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK_BYTES):
                digest.update(chunk)
    except OSError as exc:
        raise ImageError(_cannot_read(exc)) from exc
    return digest.hexdigest()


def _cannot_read(exc: OSError) -> str:
    return f"cannot read the file: {(exc.strerror or 'input/output error').lower()}"
