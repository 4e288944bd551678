"""The concurrency contract (docs/ARCHITECTURE.md, "Threads and concurrency"): checks and writes stay together."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import event
from tag_helpers import ColourWordEncoder, open_tag_library

from photosift.core.catalog import Catalog, FolderInfo


def test_a_check_then_write_is_one_transaction_another_process_cannot_slip_into(tmp_path: Path) -> None:
    """Two catalogs on one file stand for two processes: the second adds the same folder right between the
    first one's check and its insert."""
    photos = tmp_path / "photos"
    photos.mkdir()
    first, second = Catalog(tmp_path / "catalog.db"), Catalog(tmp_path / "catalog.db")
    other: list[FolderInfo | BaseException] = []

    def add_from_the_other_process() -> None:
        try:
            other.append(second.add_folder(photos))
        except BaseException as err:  # collected for the assertion below
            other.append(err)

    def after_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT folders.id") and not other:
            racer = threading.Thread(target=add_from_the_other_process)
            racer.start()
            racer.join(timeout=1.0)  # it finishes at once unless our check holds the write lock

    event.listen(first.engine, "after_cursor_execute", after_execute)
    try:
        added = first.add_folder(photos)
        while not other:
            threading.Event().wait(0.01)
        assert not isinstance(other[0], BaseException), other[0]
        assert other[0].id == added.id
        assert len(first.folders()) == 1
    finally:
        first.close()
        second.close()


class _BlockingTexts(ColourWordEncoder):
    """Text encoding that stands still until released: tag preparation taking its minute on a CPU."""

    def __init__(self) -> None:
        super().__init__()
        self.started, self.release = threading.Event(), threading.Event()

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        self.started.set()
        self.release.wait(timeout=30)
        return super().encode_texts(texts)


def test_tag_reads_do_not_wait_for_a_tag_preparation(home: Path) -> None:
    library = open_tag_library(home)
    encoder = _BlockingTexts()
    library.encoder = encoder
    preparing = threading.Thread(target=library.tags.tagger.prepare)
    preparing.start()
    try:
        assert encoder.started.wait(timeout=30)
        answered: list[object] = []
        reader = threading.Thread(target=lambda: answered.extend([library.tags.tags(), library.tags.counts()]))
        reader.start()
        reader.join(timeout=5)
        assert answered and len(answered[0]) > 300  # type: ignore[arg-type]
    finally:
        encoder.release.set()
        preparing.join()
        library.close()
