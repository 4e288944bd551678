"""Rescan speed: an unchanged library (stat only), and the same library after its folder was moved.

    python benchmarks/bench_rescan.py [--source tiny-imagenet-val]

Works on a temporary copy of the shared photos (the move needs a folder we may move). Photos are
embedded once with the tiny test model so the move can prove it costs zero model forward passes.
Targets (10,100 photos): unchanged rescan <= 2 s; move + rescan <= 5 s with 0 forward passes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from _common import REPO, SHARED_DATA

from photosift.core.catalog import Catalog
from photosift.core.library import Library
from photosift.core.models.encoder import Encoder
from photosift.core.models.spec import load_spec
from photosift.core.settings import Paths, Settings


def timed(label: str, action):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    print(f"{label:<42} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="tiny-imagenet-val")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="photosift-rescan-") as tmp:
        before, after = Path(tmp) / "photos", Path(tmp) / "moved" / "photos"
        shutil.copytree(SHARED_DATA / args.source, before)
        paths = Paths(Path(tmp) / "home")
        paths.ensure()
        spec = load_spec(REPO / "tests" / "models" / "tiny.json")
        encoder = Encoder(spec, paths, "cpu")
        library = Library(paths, Settings(), Catalog(paths.database), spec, encoder)
        library.add_folder(before)
        reports = timed("first scan", library.scan)
        print(f"  {reports[0].added} photos found")
        timed("first index (tiny model)", library.index)
        reports = timed("rescan, nothing changed (target <= 2 s)", library.scan)
        print(f"  {reports[0].unchanged} unchanged")
        os.renames(before, after)
        forward_before = encoder.image_forward_count

        def move_and_rescan() -> tuple[int, int]:
            library.add_folder(after)
            moved = sum(r.moved for r in library.scan())
            return moved, library.index().embedded

        moved, embedded = timed("folder moved: rescan + index (target <= 5 s)", move_and_rescan)
        print(f"  {moved} moved, {embedded} embedded, {encoder.image_forward_count - forward_before} forward passes")
        library.close()


if __name__ == "__main__":
    main()
