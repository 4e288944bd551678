"""Tag definitions, per-model tag vectors and scores in the catalog's SQLite file.

The store knows nothing of models or encoders: it keeps what the tagger computed and answers which photos
carry a tag. Every method opens its own short transaction, like `core.catalog.Catalog`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from photosift.core.catalog import readonly
from photosift.core.catalog import schema as s
from photosift.core.catalog.database import IN_CHUNK, write_transaction
from photosift.core.errors import QueryError, UserError
from photosift.core.tags.calibration import (
    BINS,
    Calibration,
    Histogram,
    calibrate_all,
    check_sensitivity,
    decode_histogram,
    encode_histogram,
)
from photosift.core.tags.records import TagInfo, tag_infos
from photosift.core.tags.scoring import Candidates, Vectors
from photosift.core.tags.vocabulary import CUSTOM_GROUP, Vocabulary, check_definition, normalise_name, seed_plan

CLOSE_NAMES = 5  # suggestions in an "unknown tag" message


@dataclass(frozen=True)
class CachedVector:
    definition: str
    vector: Vectors


INSERT_CHUNK = 20_000  # rows per executemany: bounded memory for a whole library's re-tag
# A candidate score's bin in tag_score_bins, as migration 0012's triggers compute it (0.001 wide).
SCORE_BIN = "CAST(({score} + 1.0) * 1000 AS INTEGER)"
# Just above where a bin ends, as SQL: the upper bound of the one range a count reads. Thresholds sit where
# candidate scores are densest, so a bound 0.002 above the threshold read 488,000 scores for 462 tags at a
# million photos (1.2 s) where the bin's own end reads 133,000 (0.31 s); 1e-9 covers rounding, and the
# SCORE_BIN test on each score keeps the count exact.
_BIN_END = "({bin} + 1) / 1000.0 - 1.0 + 1e-9"


def _chunks(items: Sequence[int]) -> Iterable[Sequence[int]]:
    return (items[i : i + IN_CHUNK] for i in range(0, len(items), IN_CHUNK))


class TagStore:
    """Tags, their vectors and scores per model, and the question "which photos carry this tag?"."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # Definitions ---------------------------------------------------------------------------------

    def seed(self, vocabulary: Vocabulary) -> None:
        """Bring the built-in tags in line with the vocabulary (idempotent; a few milliseconds).

        New built-ins are added and changed ones updated (their cached vectors go stale by definition
        digest). A built-in the vocabulary no longer has is kept as a custom tag, since the user's labels
        may rely on it; a custom tag that a new built-in would shadow keeps its user's definition."""
        with write_transaction(self.engine) as conn:
            plan = seed_plan(vocabulary, _tags(conn))
            for tag in plan.added:
                values = {"name": tag.name, "group_name": tag.group, "prompts": json.dumps(list(tag.prompts))}
                # OR IGNORE: two libraries on one catalog (a model switch) may seed at the same moment.
                conn.execute(insert(s.tags).prefix_with("OR IGNORE").values(**values, sensitivity=0, builtin=True))
            for tag_id, tag in plan.changed:
                prompts = json.dumps(list(tag.prompts))
                conn.execute(update(s.tags).where(s.tags.c.id == tag_id).values(prompts=prompts, group_name=tag.group))
            if plan.retired:
                conn.execute(update(s.tags).where(s.tags.c.id.in_(plan.retired)).values(builtin=False))

    def tags(self) -> list[TagInfo]:
        """Every tag, by group and name, with its example photos (the query `photosift tag list` runs too)."""
        with self.engine.connect() as conn:
            return _tags(conn)

    def tag(self, name: str) -> TagInfo:
        """The tag called `name` (case and `_`/`-` for spaces forgiven).

        Raises:
            QueryError: there is no such tag; the message lists the closest names.
        """
        with self.engine.connect() as conn:
            row = _find(conn, name)
            examples = conn.execute(
                select(s.tag_examples.c.tag_id, s.tag_examples.c.photo_id)
                .where(s.tag_examples.c.tag_id == row.id)
                .order_by(s.tag_examples.c.photo_id)
            )
            fields = (row.id, row.name, row.group_name, row.builtin, row.prompts, row.sensitivity)
            return tag_infos([fields], [(int(t), int(p)) for t, p in examples])[0]

    def add_tag(self, name: str, prompts: Sequence[str], group: str | None, example_ids: Sequence[int]) -> TagInfo:
        """Create a custom tag; its example photos also become accepted labels (they show the tag).

        Raises:
            UserError: the name is taken or invalid, or it has no prompt.
        """
        clean, phrases = check_definition(name, list(prompts))
        with write_transaction(self.engine) as conn:
            if conn.execute(select(s.tags.c.id).where(s.tags.c.name == clean)).first() is not None:
                raise UserError(f"There is already a tag named {clean!r}: remove it first, or choose another name.")
            values = {"name": clean, "group_name": group or CUSTOM_GROUP, "prompts": json.dumps(list(phrases))}
            tag_id = conn.execute(
                insert(s.tags).values(**values, builtin=False, sensitivity=0).returning(s.tags.c.id)
            ).scalar_one()
            photos = sorted(set(example_ids))
            if photos:
                conn.execute(insert(s.tag_examples), [{"tag_id": tag_id, "photo_id": p} for p in photos])
                now = datetime.now()
                conn.execute(
                    insert(s.tag_labels),
                    [{"tag_id": tag_id, "photo_id": p, "accepted": True, "labelled_at": now} for p in photos],
                )
        return self.tag(clean)

    def remove_tag(self, name: str) -> int:
        """Delete a custom tag with its scores and labels; returns how many labels went with it.

        Raises:
            QueryError: no such tag.
            UserError: it is built in (lower its sensitivity instead).
        """
        tag = self.tag(name)
        if tag.builtin:
            raise UserError(f"{tag.name!r} is a built-in tag and cannot be removed; lower its sensitivity instead.")
        with write_transaction(self.engine) as conn:
            labels = conn.execute(select(func.count()).where(s.tag_labels.c.tag_id == tag.id)).scalar_one()
            conn.execute(delete(s.tags).where(s.tags.c.id == tag.id))
        return int(labels)

    def set_sensitivity(self, name: str, level: int) -> TagInfo:
        tag = self.tag(name)
        with write_transaction(self.engine) as conn:
            conn.execute(update(s.tags).where(s.tags.c.id == tag.id).values(sensitivity=check_sensitivity(level)))
        return self.tag(tag.name)

    # Vectors and scores --------------------------------------------------------------------------

    def vectors(self, model_id: int) -> dict[int, CachedVector]:
        query = select(s.tag_vectors.c.tag_id, s.tag_vectors.c.definition, s.tag_vectors.c.vector)
        with self.engine.connect() as conn:
            return {
                r.tag_id: CachedVector(r.definition, np.frombuffer(r.vector, dtype=np.float32).copy())
                for r in conn.execute(query.where(s.tag_vectors.c.model_id == model_id))
            }

    def save_vectors(self, model_id: int, vectors: dict[int, CachedVector]) -> None:
        """Store new tag vectors; each one's old scores and histogram go, as they measured another vector."""
        empty = encode_histogram(np.zeros(BINS, dtype=np.int64))
        with write_transaction(self.engine) as conn:
            for tag_id, cached in vectors.items():
                conn.execute(
                    insert(s.tag_vectors).prefix_with("OR REPLACE"),
                    {
                        "tag_id": tag_id,
                        "model_id": model_id,
                        "definition": cached.definition,
                        "vector": np.asarray(cached.vector, dtype=np.float32).tobytes(),
                        "histogram": empty,
                    },
                )
                conn.execute(delete(s.tag_scores).where(_score_of(model_id, tag_id)))

    def add_scores(self, model_id: int, candidates: Candidates, counts: dict[int, Histogram]) -> None:
        """Store one batch's candidate scores and add its score counts to the tags' histograms.

        Photos deleted by a scan while they were being embedded are skipped."""
        with write_transaction(self.engine) as conn:
            self._insert_scores(conn, model_id, self._only_live(conn, candidates))
            blobs = self._histogram_blobs(conn, model_id, list(counts))
            self._set_histograms(conn, model_id, {t: decode_histogram(blob) + counts[t] for t, blob in blobs.items()})

    def replace_scores(
        self, model_id: int, tag_ids: Sequence[int] | None, candidates: Candidates, counts: dict[int, Histogram]
    ) -> None:
        """Swap in freshly computed scores and histograms for some tags (all when `tag_ids` is None), atomically:
        the old ones keep answering until the new ones are complete."""
        with write_transaction(self.engine) as conn:
            if tag_ids is None:
                conn.execute(delete(s.tag_scores).where(s.tag_scores.c.model_id == model_id))
            else:
                for chunk in _chunks(list(tag_ids)):
                    conn.execute(
                        delete(s.tag_scores).where(
                            s.tag_scores.c.model_id == model_id, s.tag_scores.c.tag_id.in_(chunk)
                        )
                    )
            self._insert_scores(conn, model_id, self._only_live(conn, candidates))
            self._set_histograms(conn, model_id, counts)

    def candidate_floors(self, model_id: int, exclude_tag_ids: Sequence[int]) -> dict[int, tuple[int, float]]:
        """photo id -> (candidates stored, lowest candidate score), ignoring the given tags."""
        query = (
            select(s.tag_scores.c.photo_id, func.count(), func.min(s.tag_scores.c.score))
            .where(s.tag_scores.c.model_id == model_id, s.tag_scores.c.tag_id.not_in(list(exclude_tag_ids)))
            .group_by(s.tag_scores.c.photo_id)
        )
        with self.engine.connect() as conn:
            return {int(r[0]): (int(r[1]), float(r[2])) for r in conn.execute(query)}

    def untagged_photo_ids(self, model_id: int) -> list[int]:
        """Photos with an embedding for this model but no tag scores: embedded before tagging existed,
        or a run stopped between writing a batch's vectors and its scores."""
        scored = select(s.tag_scores.c.photo_id).where(s.tag_scores.c.model_id == model_id)
        query = select(s.embeddings.c.photo_id).where(
            s.embeddings.c.model_id == model_id, s.embeddings.c.photo_id.not_in(scored)
        )
        with self.engine.connect() as conn:
            return [int(r[0]) for r in conn.execute(query.order_by(s.embeddings.c.photo_id))]

    def tagged_photo_ids(self, model_id: int) -> list[int]:
        query = select(func.distinct(s.tag_scores.c.photo_id)).where(s.tag_scores.c.model_id == model_id)
        with self.engine.connect() as conn:
            return sorted(int(r[0]) for r in conn.execute(query))

    def has_scores(self, model_id: int) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    select(s.tag_scores.c.photo_id).where(s.tag_scores.c.model_id == model_id).limit(1)
                ).first()
                is not None
            )

    def embedded_photo_ids(self, model_id: int) -> list[int]:
        query = select(s.embeddings.c.photo_id).where(s.embeddings.c.model_id == model_id)
        with self.engine.connect() as conn:
            return [int(r[0]) for r in conn.execute(query.order_by(s.embeddings.c.photo_id))]

    def calibrations(self, model_id: int, tag_ids: Sequence[int] | None = None) -> dict[int, Calibration]:
        """Each tag's calibration for this model (tags never scored are left out)."""
        with self.engine.connect() as conn:
            blobs = self._histogram_blobs(conn, model_id, tag_ids)
        if not blobs:
            return {}
        found = calibrate_all(np.stack([decode_histogram(blob) for blob in blobs.values()]))
        return {tag_id: c for tag_id, c in zip(blobs, found, strict=True) if c is not None}

    # Which photos carry a tag ----------------------------------------------------------------------

    def photo_ids_with_tag(self, model_id: int, name: str) -> set[int]:
        """Photos the user accepted the tag for, plus those whose score for this model reaches the tag's
        calibrated threshold at the user's sensitivity and that the user has not rejected.

        Raises:
            QueryError: there is no tag called `name` (the message lists close names).
        """
        tag = self.tag(name)
        calibration = self.calibrations(model_id, [tag.id]).get(tag.id)
        labels = select(s.tag_labels.c.photo_id, s.tag_labels.c.accepted).where(s.tag_labels.c.tag_id == tag.id)
        with self.engine.connect() as conn:
            labelled = {int(r[0]): bool(r[1]) for r in conn.execute(labels)}
            automatic: set[int] = set()
            if calibration is not None:
                query = select(s.tag_scores.c.photo_id).where(
                    _score_of(model_id, tag.id), s.tag_scores.c.score >= calibration.threshold(tag.sensitivity)
                )
                automatic = {int(r[0]) for r in conn.execute(query)}
        return {p for p, accepted in labelled.items() if accepted} | {p for p in automatic if p not in labelled}

    def counts_above(self, model_id: int, thresholds: dict[int, float]) -> dict[int, int]:
        """Tag id -> how many photos' scores reach the tag's threshold, for every tag in `thresholds` at once.

        Each count adds the tag's score bins above the threshold's bin (`tag_score_bins`, kept by triggers:
        migration 0012) to the scores inside that bin that reach the threshold, one short range of the
        (model, tag, score) index. Reading every score at or above the threshold took 1.9 s for 462 tags at
        a million photos. The bins and that range are told apart by the same SQL expression (SCORE_BIN),
        so a score on a bin's edge is counted once. One query for all tags (the thresholds as a VALUES
        table), sent as SQL text: SQLAlchemy took 0.4 s to compile the VALUES list of 462 tags."""
        if not thresholds:
            return {}
        rows = ", ".join(["(?, ?)"] * len(thresholds))  # SQLite has no aliased VALUES in FROM: a CTE
        edge = SCORE_BIN.format(score="wanted.threshold")
        model = f"?{2 * len(thresholds) + 1}"  # numbered: it is used twice, after the VALUES' parameters
        sql = (
            f"WITH wanted(tag_id, threshold) AS (VALUES {rows}) SELECT tag_id,"
            " (SELECT coalesce(sum(photos), 0) FROM tag_score_bins"
            f" WHERE model_id = {model} AND tag_id = wanted.tag_id AND bin > {edge})"
            f" + (SELECT count(*) FROM tag_scores WHERE model_id = {model} AND tag_id = wanted.tag_id"
            f" AND score >= wanted.threshold AND score < {_BIN_END.format(bin=edge)}"
            f" AND {SCORE_BIN.format(score='score')} = {edge}) FROM wanted"
        )
        params = (*(v for pair in thresholds.items() for v in pair), model_id)
        with self.engine.connect() as conn:
            return {int(r[0]): int(r[1]) for r in conn.exec_driver_sql(sql, params) if r[1]}

    def scores_of_photos(self, model_id: int, photo_ids: Sequence[int]) -> list[tuple[int, int, float]]:
        """The stored candidate (tag id, photo id, score) rows of some photos."""
        query = select(s.tag_scores.c.tag_id, s.tag_scores.c.photo_id, s.tag_scores.c.score)
        with self.engine.connect() as conn:
            return [
                (int(r[0]), int(r[1]), float(r[2]))
                for chunk in _chunks(list(photo_ids))
                for r in conn.execute(
                    query.where(s.tag_scores.c.model_id == model_id, s.tag_scores.c.photo_id.in_(chunk))
                )
            ]

    # Helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _only_live(conn: Connection, candidates: Candidates) -> Candidates:
        """Drop candidates of photos a scan deleted while they were embedded, and of tags removed through
        another library on this catalog (a model switch in progress) since the tag matrix was built."""
        photo_ids = np.unique(candidates.photo_ids).tolist()
        live = [
            int(r[0])
            for chunk in _chunks(photo_ids)
            for r in conn.execute(select(s.photos.c.id).where(s.photos.c.id.in_(chunk)))
        ]
        tags = [int(r[0]) for r in conn.execute(select(s.tags.c.id))]
        keep = np.isin(candidates.photo_ids, np.asarray(live, dtype=np.int64))
        return candidates.only(keep & np.isin(candidates.tag_ids, np.asarray(tags, dtype=np.int64)))

    @staticmethod
    def _insert_scores(conn: Connection, model_id: int, candidates: Candidates) -> None:
        for start in range(0, len(candidates.scores), INSERT_CHUNK):
            end = start + INSERT_CHUNK
            conn.execute(
                insert(s.tag_scores).prefix_with("OR REPLACE"),
                [
                    {"model_id": model_id, "tag_id": t, "photo_id": p, "score": score}
                    for t, p, score in zip(
                        candidates.tag_ids[start:end].tolist(),
                        candidates.photo_ids[start:end].tolist(),
                        candidates.scores[start:end].tolist(),
                        strict=True,
                    )
                ],
            )

    @staticmethod
    def _histogram_blobs(conn: Connection, model_id: int, tag_ids: Sequence[int] | None) -> dict[int, bytes]:
        query = select(s.tag_vectors.c.tag_id, s.tag_vectors.c.histogram).where(s.tag_vectors.c.model_id == model_id)
        if tag_ids is None:
            return {int(r[0]): r[1] for r in conn.execute(query)}
        return {
            int(r[0]): r[1]
            for chunk in _chunks(list(tag_ids))
            for r in conn.execute(query.where(s.tag_vectors.c.tag_id.in_(chunk)))
        }

    @staticmethod
    def _set_histograms(conn: Connection, model_id: int, histograms: dict[int, Histogram]) -> None:
        if histograms:
            statement = (
                update(s.tag_vectors)
                .where(s.tag_vectors.c.model_id == model_id, s.tag_vectors.c.tag_id == bindparam("tag"))
                .values(histogram=bindparam("counts"))
            )
            conn.execute(statement, [{"tag": t, "counts": encode_histogram(h)} for t, h in histograms.items()])


def _score_of(model_id: int, tag_id: int) -> ColumnElement[bool]:
    return and_(s.tag_scores.c.model_id == model_id, s.tag_scores.c.tag_id == tag_id)


def _tags(conn: Connection) -> list[TagInfo]:
    return tag_infos(*readonly.tag_rows(conn.connection.driver_connection))


def _find(conn: Connection, name: str) -> Row[Any]:
    """The tags row for `name`, trying spaces for hyphens too; QueryError with close names if none."""
    wanted = normalise_name(name)
    for candidate in dict.fromkeys((wanted, wanted.replace("-", " "))):
        row = conn.execute(select(s.tags).where(s.tags.c.name == candidate)).first()
        if row is not None:
            return row
    names = [r[0] for r in conn.execute(select(s.tags.c.name))]
    close = difflib.get_close_matches(wanted, names, n=CLOSE_NAMES, cutoff=0.6)
    close += [n for n in names if wanted and wanted in n and n not in close][: CLOSE_NAMES - len(close)]
    hint = f" Did you mean {', '.join(repr(n) for n in close)}?" if close else " Add it as a custom tag first."
    raise QueryError(f"No tag named {wanted or name!r}.{hint}")
