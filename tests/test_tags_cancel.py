"""Closing the app while a model's tag vectors are first computed stops between text batches; the next
indexing run catches the tags up, so nothing is lost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import make_colour_classes
from tag_helpers import ColourWordEncoder, open_tag_library

from photosift.core.progress import CancelToken


class CancellingEncoder(ColourWordEncoder):
    """Cancels the run's token after the first batch of texts it encodes."""

    def __init__(self, token: CancelToken) -> None:
        super().__init__()
        self.token, self.text_batches = token, 0

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        self.text_batches += 1
        self.token.cancel()
        return super().encode_texts(texts)


def test_cancel_during_first_tag_vectors_then_the_next_run_catches_up(home: Path, tmp_path: Path) -> None:
    photos = make_colour_classes(tmp_path / "photos", per_class=2)
    library = open_tag_library(home)
    token = CancelToken()
    library.encoder = encoder = CancellingEncoder(token)
    library.add_folder(photos)
    library.scan()
    report = library.index(cancel=token)  # the photos first; the built-in tags' vectors after them
    store, model = library.tags.tagger.store, library.model_id
    assert report.embedded == 6 and encoder.text_batches == 1  # stopped after one batch of tag texts
    assert not store.vectors(model) and not store.has_scores(model)
    library.encoder = ColourWordEncoder()
    library.index()
    assert len(store.vectors(model)) >= 300 and store.has_scores(model)
    library.close()
