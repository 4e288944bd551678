"""Migrations are one transaction: a failure or a kill half-way leaves a catalog that the next start opens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import alembic.op
import pytest
from sqlalchemy import create_engine, inspect

from photosift.core.catalog import Catalog
from photosift.core.catalog.database import migrate

_TABLES = {"folders", "photos", "files", "embeddings", "models", "albums", "tags"}


def _fail_on_create(monkeypatch: pytest.MonkeyPatch, nth: int) -> None:
    """Make the nth `op.create_table` of the migrations raise, after the earlier ones ran."""
    real = alembic.op.create_table
    calls = 0

    def create_table(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == nth:
            raise RuntimeError("the process died here")
        return real(*args, **kwargs)

    monkeypatch.setattr(alembic.op, "create_table", create_table)


def _tables(path: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_new_catalog_whose_migration_failed_half_way_opens_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "catalog.db"
    _fail_on_create(monkeypatch, nth=4)
    with pytest.raises(RuntimeError, match="died"):
        Catalog(path)
    assert _tables(path) == set()  # nothing of the half-applied schema stays
    monkeypatch.undo()
    catalog = Catalog(path)
    try:
        assert catalog.folders() == []
        assert _tables(path) >= _TABLES
    finally:
        catalog.close()


def test_an_upgrade_that_fails_leaves_the_old_schema_and_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "catalog.db"
    old = create_engine(f"sqlite:///{path}")
    migrate(old, "0001")
    with old.begin() as conn:
        conn.exec_driver_sql("INSERT INTO folders (path, status, added_at) VALUES ('/photos', 'ok', '2026-01-01')")
    old.dispose()
    _fail_on_create(monkeypatch, nth=2)  # 0002 creates albums, then album_photos: fail there
    with pytest.raises(RuntimeError, match="died"):
        Catalog(path)
    assert "albums" not in _tables(path)
    monkeypatch.undo()
    catalog = Catalog(path)
    try:
        assert [f.path for f in catalog.folders()] == ["/photos"]
        assert _tables(path) >= _TABLES
    finally:
        catalog.close()


_KILLED_CHILD = """
import os, signal, sys
import alembic.op
from photosift.core.catalog import Catalog
real, calls = alembic.op.create_table, [0]
def create_table(*args, **kwargs):
    calls[0] += 1
    if calls[0] == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
alembic.op.create_table = create_table
Catalog(__import__("pathlib").Path(sys.argv[1]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_during_a_new_catalogs_migration_does_not_brick_the_data_folder(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    child = subprocess.run([sys.executable, "-c", _KILLED_CHILD, str(path)], capture_output=True, timeout=120)
    assert child.returncode == -9, child.stderr.decode()
    catalog = Catalog(path)  # raised "table folders already exists" when each DDL auto-committed
    try:
        assert catalog.folders() == []
    finally:
        catalog.close()
