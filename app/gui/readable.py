"""File paths as people read them. A name that is not valid UTF-8 (Latin-1 from old archives and Windows
copies: the bytes `caf\\xe9.jpg`) reaches Python with its odd bytes as lone surrogates, which Qt silently
drops: the viewer called `café.jpg` "caf.jpg" and Copy path put a path to no file on the clipboard."""

from __future__ import annotations

import re

# The surrogates that stand for the bytes 0x80-0xFF of a name that is not UTF-8 (Python's surrogateescape).
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def readable_path(path: str) -> str:
    """`path` with each escaped byte read as Windows-1252 (a superset of Latin-1 for the letters), the
    encoding such names nearly always come from; a byte that has no character there shows as U+FFFD.
    For display only: the path itself stays as stored, to open the file by."""
    if path.isascii():  # nearly every name: the grid asks for each of 100,000 rows at once
        return path
    return _ESCAPED_BYTE.sub(lambda m: bytes([ord(m.group()) - 0xDC00]).decode("cp1252", errors="replace"), path)
