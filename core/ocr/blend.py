"""How recognised text joins a plain query's ranking: a documented bonus, not an override.

A photo whose recognised text holds the words of one of the query's text terms (`TextService.blended_ids`)
ranks as if its embedding were TEXT_BONUS more similar to the query. The photos that only look like the
words keep their places among themselves; a receipt that says "invoice" moves up past photos that merely
resemble an invoice, but not past a photo that matches the query's meaning far better. Photos outside the
embedding search's first page that hold the words are brought in with their own similarity plus the bonus.
When results are cut by relevance (sort:date, smart albums) a photo holding the words always counts as
relevant, unless an explicit threshold says otherwise (its similarity plus the bonus must reach it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np

from photosift.core.search.ranking import Match

# Added to the cosine similarity of a photo whose text holds the query's words. Twice the relevance margin
# (core.search.ranking.RELEVANCE_MARGIN): the spread between a model's best hits and its merely related
# ones is about 0.03-0.06, so 0.1 lifts a text match above related photos for any model's score offset.
TEXT_BONUS = 0.1

Embeddings = Callable[[list[int]], tuple[np.ndarray, np.ndarray]]  # photo ids -> (ids, vectors)


def blend(
    matches: Sequence[Match],
    text_ids: Collection[int],
    vector: np.ndarray,
    embeddings: Embeddings,
    min_score: float | None = None,
) -> list[Match]:
    """`matches` (best first) with the text matches raised by TEXT_BONUS and merged in, best first.

    Args:
        text_ids: photos whose text holds the query's words, already limited to those the filters allow.
        vector: the query's vector, to score the text matches that `matches` does not hold.
        embeddings: the stored embeddings of photos (the catalog's, for the library's model).
        min_score: an explicit threshold a text match must still reach with its bonus.
    """
    if not text_ids:
        return list(matches)
    scores = {photo_id: score for photo_id, score in matches}
    missing = [photo_id for photo_id in text_ids if photo_id not in scores]
    if missing:
        ids, vectors = embeddings(missing)
        scores.update(zip((int(i) for i in ids), (float(s) for s in vectors @ vector), strict=True))
    for photo_id in text_ids:
        if scores.get(photo_id) is not None:
            scores[photo_id] = float(scores[photo_id] or 0.0) + TEXT_BONUS
    kept = {
        photo_id: score
        for photo_id, score in scores.items()
        if min_score is None or photo_id not in text_ids or (score is not None and score >= min_score)
    }
    return sorted(kept.items(), key=lambda item: -(item[1] if item[1] is not None else -np.inf))


def within(text_ids: set[int], allowed: Collection[int] | np.ndarray | None) -> set[int]:
    """The text matches that the search's filters allow (`allowed`: None allows every photo)."""
    if allowed is None or not text_ids:
        return text_ids
    ids = np.fromiter(text_ids, dtype=np.int64, count=len(text_ids))
    allowed_ids = allowed if isinstance(allowed, np.ndarray) else np.fromiter(allowed, dtype=np.int64)
    return {int(i) for i in ids[np.isin(ids, allowed_ids)]}
