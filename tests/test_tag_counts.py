"""Side panel tag counts from score bins (migration 0012) against a plain count of the scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from photosift.core.catalog import Catalog
from photosift.core.catalog import schema as s
from photosift.core.catalog.database import write_transaction
from photosift.core.tags.scoring import Candidates
from photosift.core.tags.store import TagStore

PHOTOS, TAGS = 300, 6


def candidates(rng: np.random.Generator, photos: np.ndarray, tags: int, per_photo: int) -> Candidates:
    """Random candidates, a third of them exactly on a bin's edge (a multiple of 0.001 less 1, as floats)."""
    tag_ids = np.concatenate([rng.choice(np.arange(1, tags + 1), per_photo, replace=False) for _ in photos])
    scores = rng.uniform(-0.2, 0.4, tag_ids.size)
    edges = rng.random(tag_ids.size) < 0.33
    scores[edges] = np.round(rng.uniform(800, 1400, int(edges.sum()))) / 1000 - 1.0
    return Candidates(
        tag_ids.astype(np.int64), np.repeat(photos, per_photo).astype(np.int64), scores.astype(np.float32)
    )


def plain_counts(catalog: Catalog, model_id: int, thresholds: dict[int, float]) -> dict[int, int]:
    t = s.tag_scores.c
    with catalog.engine.connect() as conn:
        found = {
            tag: int(
                conn.execute(
                    select(func.count()).where(t.model_id == model_id, t.tag_id == tag, t.score >= thr)
                ).scalar_one()
            )
            for tag, thr in thresholds.items()
        }
    return {tag: n for tag, n in found.items() if n}


def thresholds_to_try(rng: np.random.Generator, store: TagStore, model_id: int) -> list[dict[int, float]]:
    """Random thresholds, thresholds on bin edges, and thresholds equal to stored scores."""
    stored = [score for _, _, score in store.scores_of_photos(model_id, list(range(1, PHOTOS + 1)))]
    tags = range(1, TAGS + 1)
    return [
        {t: float(rng.uniform(-0.2, 0.4)) for t in tags},
        {t: float(np.round(rng.uniform(800, 1400)) / 1000 - 1.0) for t in tags},
        {t: float(rng.choice(stored)) for t in tags},
        {t: float(np.float32(rng.choice(stored))) + 1e-9 for t in tags},
    ]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    with write_transaction(catalog.engine) as conn:
        conn.execute(s.models.insert(), [{"id": m, "key": f"m{m}", "name": f"m{m}", "dim": 4} for m in (1, 2)])
        conn.execute(
            s.tags.insert(),
            [
                {"id": t, "name": f"t{t}", "group_name": "g", "builtin": False, "prompts": "[]"}
                for t in range(1, TAGS + 1)
            ],
        )
        conn.execute(
            s.photos.insert(),
            [{"id": p, "fingerprint": str(p), "size": 1, "status": "ok"} for p in range(1, PHOTOS + 1)],
        )
    return catalog


def test_counts_equal_a_plain_count_through_every_kind_of_write(catalog: Catalog) -> None:
    rng = np.random.default_rng(3)
    store = TagStore(catalog.engine)
    photos = np.arange(1, PHOTOS + 1)
    store.add_scores(1, candidates(rng, photos, TAGS, 3), {})
    store.add_scores(2, candidates(rng, photos[:50], TAGS, 2), {})  # another model's scores are not counted

    def check() -> None:
        for thresholds in thresholds_to_try(rng, store, 1):
            assert store.counts_above(1, thresholds) == plain_counts(catalog, 1, thresholds)

    check()
    store.add_scores(1, candidates(rng, photos[::3], TAGS, 3), {})  # INSERT OR REPLACE of rows already there
    check()
    with write_transaction(catalog.engine) as conn:  # photos and a tag deleted: the scores go by foreign key
        conn.execute(delete(s.photos).where(s.photos.c.id <= 40))
        conn.execute(delete(s.tags).where(s.tags.c.id == 2))
    check()
    some = candidates(rng, photos[40:], TAGS, 2)
    store.replace_scores(1, [3, 4], some.only(np.isin(some.tag_ids, [3, 4])), {})  # some tags rescored
    check()
    store.replace_scores(1, None, candidates(rng, photos[60:], TAGS, 4), {})
    check()
    with catalog.engine.connect() as conn:
        binned = conn.execute(select(func.sum(s.tag_score_bins.c.photos))).scalar_one()
        stored = conn.execute(select(func.count()).select_from(s.tag_scores)).scalar_one()
    assert binned == stored
    catalog.close()
