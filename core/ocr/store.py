"""The catalog's recognised text: which photos still wait for OCR, what was read, and full-text lookups.

Lookups go through `photo_text_fts`, an FTS5 trigram index over `photo_text` (migration 0008). A query
word matches anywhere inside the text, ignoring ASCII case: the recogniser often runs words together
("INVOICE2023"), so "invoice" must find it. Words of one or two letters are matched by a scan of the text
(a trigram index needs three letters), which is still one query.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Engine, TextClause, delete, func, insert, select, text

from photosift.core.catalog import readonly
from photosift.core.catalog import schema as s
from photosift.core.catalog.database import write_transaction

TextStatus = Literal["text", "none", "unlikely", "failed"]
_ESCAPE = "!"


@dataclass(frozen=True)
class TextRow:
    """One photo's outcome: its status (see `core.catalog.schema.photo_text`) and the text read, if any."""

    photo_id: int
    status: TextStatus
    text: str = ""
    model_id: int | None = None  # "unlikely": the model whose gate left the photo out


def query_words(value: str) -> list[str]:
    """The words of a search value, without the punctuation around them ("total:" finds "TOTAL 12")."""
    words = (word.strip(string.punctuation) for word in value.split())
    return [word for word in words if word]


def pending(engine: Engine, model_id: int, with_unlikely: bool) -> list[tuple[int, str]]:
    """(photo id, one of its paths) of embedded photos that OCR has not looked at, in id order; with
    `with_unlikely`, also those the gate left out (the setting to read every photo was turned on)."""
    query = (
        select(s.embeddings.c.photo_id, func.min(s.files.c.path))
        .join(s.files, s.files.c.photo_id == s.embeddings.c.photo_id)
        .where(_pending_where(model_id, with_unlikely))
        .group_by(s.embeddings.c.photo_id)
        .order_by(s.embeddings.c.photo_id)
    )
    with engine.connect() as conn:
        return [(int(photo_id), str(path)) for photo_id, path in conn.execute(query)]


def count_pending(engine: Engine, model_id: int, with_unlikely: bool) -> int:
    """How many photos `pending` would list, counted by SQLite: `photosift status` listed a million
    rows into Python to count them (30 s at a million photos)."""
    with engine.connect() as conn:
        return readonly.text_pending_count(conn.connection.driver_connection, model_id, with_unlikely)


def _pending_where(model_id: int, with_unlikely: bool) -> TextClause:
    """Embedded photos whose text is still to be read (core.catalog.readonly.TEXT_PENDING_WHERE says which),
    the condition `photosift status` counts with."""
    return text(readonly.TEXT_PENDING_WHERE).bindparams(model_id=model_id, with_unlikely=with_unlikely)


def retry_failed(engine: Engine) -> int:
    """Forget which photos could not be read for text, so the next pass tries them again (a decoder was
    installed); returns how many."""
    with write_transaction(engine) as conn:
        return int(conn.execute(delete(s.photo_text).where(s.photo_text.c.status == "failed")).rowcount)


def save(engine: Engine, rows: Sequence[TextRow]) -> None:
    """Store the outcomes in one transaction. Delete, then insert: SQLite's INSERT OR REPLACE would not
    fire the delete trigger that takes the old text out of the full-text index."""
    if not rows:
        return
    ids = [row.photo_id for row in rows]
    now = datetime.now()
    with write_transaction(engine) as conn:
        conn.execute(delete(s.photo_text).where(s.photo_text.c.photo_id.in_(ids)))
        present = set(conn.execute(select(s.photos.c.id).where(s.photos.c.id.in_(ids))).scalars())
        values = [
            {"photo_id": r.photo_id, "status": r.status, "text": r.text, "read_at": now, "model_id": r.model_id}
            for r in rows
            if r.photo_id in present  # a photo deleted while it was read leaves no row behind
        ]
        if values:
            conn.execute(insert(s.photo_text), values)


def photos_with_words(engine: Engine, words: Sequence[str]) -> set[int]:
    """Photos whose recognised text contains every one of `words` (see the module docstring)."""
    if not words:
        return set()
    clauses, params = [], {}
    for i, word in enumerate(words):
        # An ESCAPE clause is added only where needed: FTS5 serves a plain LIKE from its trigram index.
        escaped = word.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
        clauses.append(f"text LIKE :w{i}" + (f" ESCAPE '{_ESCAPE}'" if escaped != word else ""))
        params[f"w{i}"] = f"%{escaped}%"
    query = text(f"SELECT rowid FROM {s.FULL_TEXT_INDEX} WHERE {' AND '.join(clauses)}")
    with engine.connect() as conn:
        return {int(r[0]) for r in conn.execute(query, params)}


def recognised_text(engine: Engine, photo_id: int) -> str | None:
    """What OCR read from the photo ("" when it found nothing), or None when it has not read it."""
    query = select(s.photo_text.c.status, s.photo_text.c.text).where(s.photo_text.c.photo_id == photo_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None or row.status in ("unlikely", "failed"):
        return None
    return str(row.text)


def text_status(engine: Engine, photo_id: int) -> TextStatus | None:
    """Where the photo stands with OCR; None when no pass has looked at it yet."""
    query = select(s.photo_text.c.status).where(s.photo_text.c.photo_id == photo_id)
    with engine.connect() as conn:
        status = conn.execute(query).scalar()
    return None if status is None else cast(TextStatus, status)


def counts(engine: Engine) -> dict[str, int]:
    """Photos per OCR status ("text", "none", "unlikely", "failed")."""
    query = select(s.photo_text.c.status, func.count()).group_by(s.photo_text.c.status)
    with engine.connect() as conn:
        return {str(status): int(n) for status, n in conn.execute(query)}
