"""Opening the SQLite database (WAL mode, foreign keys, Alembic migrations) and its transactions.

pysqlite, left to itself, opens a transaction only before INSERT/UPDATE/DELETE: the SELECT of a
check-then-write runs outside it, and DDL runs in autocommit. So a second process (the CLI beside the
app) could slip in between a check and its write, and a kill during a migration left half a schema
("table folders already exists" on every later start). Every write therefore goes through
`write_transaction`, which issues `BEGIN IMMEDIATE` itself: the write lock is taken before the first read,
and everything up to the commit, DDL included, is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from photosift.core.catalog.readonly import MIGRATIONS_DIR, head_revision

if TYPE_CHECKING:
    from alembic.config import Config

# Busy timeout: readers in the GUI and the single writer share the file; WAL keeps waits rare and short.
BUSY_TIMEOUT_MS = 10_000
# SQLite limits bound parameters per statement; chunk IN (...) lists well below it.
IN_CHUNK = 500

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`items` in slices short enough for one IN (...) list each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable in WAL mode except for the last transactions on power loss, which a rescan redoes.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def open_engine(path: Path) -> Engine:
    """Create the engine for the catalog at `path`, creating and migrating the database as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    migrate(engine)
    return engine


def alembic_config() -> Config:
    """An Alembic config pointing at our migrations, built in code so no alembic.ini has to ship."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one `BEGIN IMMEDIATE` transaction, committed when the block ends, rolled back if
    it raises. Taking the write lock first means a check and the write it decides stay together, and
    SQLite never has to upgrade a read snapshot that another writer made stale (SQLITE_BUSY_SNAPSHOT,
    which the busy timeout does not wait out)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite sees it and adds no BEGIN of its own
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one snapshot of the database (a deferred transaction)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database schema to `revision` (the latest by default), all steps in one transaction:
    a crash or an error half-way leaves the schema as it was, and the next start upgrades again.

    A database already at the newest revision (every start but the first after an update) is left alone
    without Alembic, whose import and script reading cost a fifth of a second of each start."""
    if revision == "head" and _revisions(engine) == [head_revision()]:
        return
    from alembic import command

    config = alembic_config()
    with write_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _revisions(engine: Engine) -> list[str]:
    """The revisions the database says it is at (none for a new database)."""
    with engine.connect() as connection:
        try:
            return [row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")]
        except OperationalError:  # no such table: a new database
            return []
