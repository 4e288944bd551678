"""Tag calibrations stop counting deleted photos: the histograms behind thresholds only ever grew, so a
library that lost many photos kept their scores in every tag's thresholds for good."""

from __future__ import annotations

from pathlib import Path

from conftest import make_colour_classes
from tag_helpers import open_tag_library


def test_histograms_forget_deleted_photos_at_the_next_index(home: Path, tmp_path: Path) -> None:
    photos = make_colour_classes(tmp_path / "photos", per_class=4)
    with open_tag_library(home) as lib:
        lib.tags.add("red", ["red"])
        lib.add_folder(photos)
        lib.scan()
        lib.index()
        assert {c.photos for c in lib.tags.store.calibrations(lib.model_id).values()} == {12}
        for path in (photos / "green").iterdir():
            path.unlink()
        lib.scan()
        lib.index()
        assert {c.photos for c in lib.tags.store.calibrations(lib.model_id).values()} == {8}
