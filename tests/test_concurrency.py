"""The concurrency contract (docs/ARCHITECTURE.md, "Threads and concurrency"): checks and writes stay together."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event

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
