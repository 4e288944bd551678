"""Helpers for the tagging tests: a fake encoder that reads colour words out of templated prompts, and a
library of single-colour photos whose right tags are known."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from conftest import FakeEncoder
from test_library import fake_spec

from photosift.core.catalog import Catalog
from photosift.core.library import Library
from photosift.core.settings import Paths, Settings

COLOUR_AT_END = re.compile(r"(?:^|\s)(red|green|blue)\.?$")
# Orthogonal to every photo vector of the fake (their colour parts are mean-centred and its 4th axis is
# not in it): any text that is not a colour scores exactly 0 on every photo.
NO_COLOUR = np.array([1.0, 1.0, 1.0, 0.0], dtype=np.float32) / np.sqrt(3)


class ColourWordEncoder(FakeEncoder):
    """FakeEncoder whose texts may be templated: "a photo of red." maps to the red axis like "red" does."""

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        out = np.tile(NO_COLOUR, (len(texts), 1))
        for row, text in enumerate(texts):
            match = COLOUR_AT_END.search(text.strip().lower())
            if match:
                out[row] = super().encode_texts([match.group(1)])[0]
        return out


def open_tag_library(home: Path, model: str = "fake-colour", catalog: Catalog | None = None) -> Library:
    paths = Paths(home)
    paths.ensure()
    return Library(paths, Settings(), catalog or Catalog(paths.database), fake_spec(model), ColourWordEncoder())


def ids_of(library: Library, folder: Path) -> set[int]:
    """The photo ids of the files in `folder`."""
    found = {library.catalog.photo_id_for_path(str(p)) for p in folder.iterdir()}
    return {i for i in found if i is not None}


def tagged_colour_library(home: Path, photos: Path) -> Library:
    """A library with the tags red, green and blue defined before `photos` are indexed, so tagging happens
    batch by batch as photos are written (the caller closes it)."""
    library = open_tag_library(home)
    for colour in ("red", "green", "blue"):
        library.tags.add(colour, [colour])
    library.add_folder(photos)
    library.scan()
    library.index()
    return library
