"""The concurrency contract (docs/ARCHITECTURE.md, "Threads and concurrency"): no long work under a lock that
readers need, checks and writes in one transaction, saving that never blocks searches."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import TEST_MODELS
from sqlalchemy import event
from tag_helpers import ColourWordEncoder, open_tag_library

from photosift.core import vindex
from photosift.core.catalog import Catalog, FolderInfo
from photosift.core.models.encoder import Encoder
from photosift.core.models.registry import ModelRegistry
from photosift.core.settings import Paths
from photosift.core.vindex import VectorIndex


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


def test_reads_of_a_library_just_opened_write_nothing(home: Path) -> None:
    """Issue 14: the first tag read of an opened library seeded the tag vocabulary into the catalog, a write
    on a read thread. It is seeded as the library opens; tag reads, their counts, a search and the status
    then commit nothing (SQLite's data_version moves when another connection commits)."""
    library = open_tag_library(home)
    other = sqlite3.connect(library.paths.database)
    try:
        before = other.execute("PRAGMA data_version").fetchone()
        tags = library.tags.tags()
        assert len(tags) > 300 and library.tags.tag(tags[0].name) == tags[0]
        library.tags.counts()
        library.search(f"red tag:{tags[0].name}")
        library.status()
        assert other.execute("PRAGMA data_version").fetchone() == before
    finally:
        other.close()
        library.close()


def test_searches_go_on_while_the_index_file_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = VectorIndex.build(4, np.arange(3), np.eye(3, 4, dtype=np.float32))
    writing, release = threading.Event(), threading.Event()
    real_write = vindex.write_index_file

    def slow_write(*args: Any) -> None:
        writing.set()
        release.wait(timeout=30)  # a 460 MB index takes about 1.4 s
        real_write(*args)

    monkeypatch.setattr(vindex, "write_index_file", slow_write)
    saving = threading.Thread(target=index.save, args=(tmp_path / "index.faiss", "stamp"))
    saving.start()
    try:
        assert writing.wait(timeout=30)
        found: list[int] = []
        searching = threading.Thread(target=lambda: found.extend(index.search(np.eye(1, 4)[0], 1)[0].ids.tolist()))
        searching.start()
        searching.join(timeout=5)
        assert found == [0]
    finally:
        release.set()
        saving.join()
    assert VectorIndex.load(tmp_path / "index.faiss", "stamp", 4) is not None


def test_a_temporary_index_file_left_by_a_kill_is_removed_at_start(home: Path) -> None:
    library = open_tag_library(home)
    library.close()
    left = library.index_path.with_name(f".{library.index_path.name}.x7k2q.tmp")
    left.write_bytes(b"\0" * 4096)  # the full-size copy a kill during the save leaves behind
    os.utime(left, (1_000_000, 1_000_000))
    reopened = open_tag_library(home)
    reopened.close()
    assert not left.exists()


def test_the_encoder_lock_is_not_held_through_a_download(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = Paths(home)
    spec = ModelRegistry(paths).resolve(str(TEST_MODELS / "tiny.json"))
    encoder = Encoder(spec, paths, "cpu")
    downloading, release = threading.Event(), threading.Event()
    real_fetch = Encoder._fetch_weights

    def slow_first_fetch(self: Encoder, *args: Any) -> Path | None:
        if not downloading.is_set():
            downloading.set()
            release.wait(timeout=30)  # minutes for a real model
        return real_fetch(self, *args)

    monkeypatch.setattr(Encoder, "_fetch_weights", slow_first_fetch)
    loading = threading.Thread(target=encoder.load)
    loading.start()
    try:
        assert downloading.wait(timeout=30)
        tokens: list[object] = []
        reader = threading.Thread(target=lambda: tokens.append(encoder.tokenize(["a red photo"])))
        reader.start()
        reader.join(timeout=10)
        assert tokens, "the tokenizer waited for the download"
    finally:
        release.set()
        loading.join()
    assert encoder.is_loaded
