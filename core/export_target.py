"""Where exports may write: anywhere but a photo folder.

Photos are sacred: albums, tags and sidecars are written only where the user points, and never where
photos live. A target is refused when, with every link resolved (writing follows links), it lies inside a
watched folder, inside a folder linked into one (the scanner follows those links, so their photos are
the library's too), or, for a folder that receives many files, contains one. The check asks the file
system about the folders the catalog's files live in, not the whole tree: one `lstat` per folder.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from photosift.core import atomic
from photosift.core.catalog import schema as s
from photosift.core.errors import UserError

# Lone surrogates: the escaped bytes of file names that are not valid UTF-8 (see `schema.FilePath`).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class PhotoFolder:
    """A folder whose files are photos of the library: `real` is where it is, `via` how it is reached."""

    real: Path
    via: str  # the watched folder itself, or the link inside one that leads here


def photo_folders(engine: Engine) -> list[PhotoFolder]:
    """Every watched folder and every folder linked into one that holds photos, resolved."""
    with engine.connect() as conn:
        watched = [str(r[0]) for r in conn.execute(select(s.folders.c.path))]
        file_dirs = {os.path.dirname(str(r[0])) for r in conn.execute(select(s.files.c.path))}
    found = [PhotoFolder(Path(os.path.realpath(w)), w) for w in watched]
    checked: set[str] = set(watched)
    for folder in sorted(file_dirs):
        found += _links_above(folder, watched, checked)
    return found


def _links_above(folder: str, watched: list[str], checked: set[str]) -> Iterable[PhotoFolder]:
    """Links between `folder` and the watched folder it lies under, each folder looked at once."""
    while folder not in checked and os.path.dirname(folder) != folder:
        checked.add(folder)
        if os.path.islink(folder) and any(folder.startswith(w.rstrip(os.sep) + os.sep) for w in watched):
            yield PhotoFolder(Path(os.path.realpath(folder)), folder)
        folder = os.path.dirname(folder)


def refuse_photo_folders(engine: Engine, targets: Iterable[Path], receives_files: bool = False) -> None:
    """Raise UserError if any target would write into a photo folder.

    Args:
        targets: files to be written, or (with `receives_files`) folders that files are written into.
        receives_files: the targets are folders; one that contains a photo folder is refused as well.
    """
    folders = photo_folders(engine)
    for target in targets:
        real = Path(os.path.realpath(target))
        for folder in folders:
            if real == folder.real or folder.real in real.parents:
                raise UserError(_refusal(target, f"is inside the photo folder {folder.via}", folder))
            if receives_files and real in folder.real.parents:
                raise UserError(_refusal(target, f"contains the photo folder {folder.via}", folder))


def _refusal(target: Path, where: str, folder: PhotoFolder) -> str:
    linked = "" if str(folder.real) == folder.via else f" (a link to {folder.real})"
    return (
        f"Photosift never writes into photo folders, and {target} {where}{linked}: "
        "choose a place outside your photo folders."
    )


def write_json(path: Path, data: object, what: str) -> None:
    """Write `data` as readable UTF-8 JSON, atomically. Paths whose names are not valid UTF-8 are kept
    as JSON escapes of their surrogates, which `json.loads` turns back into the same path."""
    text = json.dumps(data, default=str, indent=1, ensure_ascii=False) + "\n"
    atomic.write_text(path, _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text), what)
