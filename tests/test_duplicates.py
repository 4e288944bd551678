"""Near-duplicates: the range search and grouping on constructed embeddings, the pHash rule, the best copy,
and the catalog state (marks survive a new search and a restart)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import make_photo
from PIL import Image
from test_library import open_library

from photosift.core.duplicates import pairs as dp
from photosift.core.duplicates import store
from photosift.core.duplicates.pairs import (
    Pairs,
    confirmed,
    connected_groups,
    hash_distance,
    signature_distance,
    similar_pairs,
)
from photosift.core.duplicates.records import Findings, Signature
from photosift.core.duplicates.service import Duplicates
from photosift.core.duplicates.signatures import CROP_WINDOWS, laplacian_variance, read_signature
from photosift.core.errors import Cancelled, UserError
from photosift.core.library import Library
from photosift.core.progress import CancelToken, Progress


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def planted(n: int, dim: int, copies: list[tuple[int, float]], seed: int = 0) -> np.ndarray:
    """`n` random unit vectors, then for each (source, similarity) one more at that cosine to the source."""
    rng = np.random.default_rng(seed)
    base = unit(rng.standard_normal((n, dim)))
    extra = []
    for source, sim in copies:
        noise = rng.standard_normal(dim)
        noise -= (noise @ base[source]) * base[source]
        extra.append(sim * base[source] + np.sqrt(1 - sim**2) * noise / np.linalg.norm(noise))
    return unit(np.vstack([base, *extra])) if extra else base


def pair_set(p: Pairs) -> set[tuple[int, int]]:
    return set(zip(p.first.tolist(), p.second.tolist(), strict=True))


def test_range_search_finds_each_close_pair_once_by_photo_id() -> None:
    vectors = planted(50, 64, [(3, 0.99), (3, 0.93), (10, 0.80)])  # rows 50, 51 copy 3; row 52 is too far from 10
    ids = np.arange(1000, 1053, dtype=np.int64)
    found = similar_pairs(ids, vectors, 0.9)
    assert pair_set(found) == {(1003, 1050), (1003, 1051), (1050, 1051)}
    assert np.all(found.first < found.second) and np.all(found.similarity >= 0.9)


def test_the_inverted_file_beyond_the_exact_limit_finds_the_same_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = planted(3000, 32, [(i, 0.95) for i in range(0, 3000, 150)], seed=1)
    ids = np.arange(len(vectors), dtype=np.int64)
    exact = pair_set(similar_pairs(ids, vectors, 0.9))
    monkeypatch.setattr(dp, "EXACT_LIMIT", 100)
    assert pair_set(similar_pairs(ids, vectors, 0.9)) == exact and len(exact) == 20


def test_long_vectors_are_searched_projected_and_kept_at_their_true_cosine() -> None:
    sims = [0.99, 0.95, 0.91, 0.905, 0.89, 0.86]  # the last two must not come back
    vectors = planted(400, 1152, [(i, s) for i, s in enumerate(sims)], seed=2)
    found = similar_pairs(np.arange(406, dtype=np.int64), vectors, 0.9)
    assert pair_set(found) == {(i, 400 + i) for i in range(4)}
    exact = np.einsum("ij,ij->i", vectors[found.first], vectors[found.second])
    assert np.allclose(found.similarity, exact, atol=1e-5)


def test_a_cancelled_range_search_raises_cancelled() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        similar_pairs(np.arange(10, dtype=np.int64), planted(10, 8, []), cancel=token)


def test_pairs_below_sure_need_perceptual_hashes_that_agree() -> None:
    pairs = Pairs(np.array([1, 3, 5, 7]), np.array([2, 4, 6, 8]), np.array([0.99, 0.92, 0.92, 0.92], np.float32))
    close, far = 0b1011, 0b1011 ^ ((1 << 20) - 1)  # 0 and 20 bits apart from 0b1011
    signatures = {
        3: Signature(0b1011, 1.0),
        4: Signature(close, 1.0),
        5: Signature(0b1011, 1.0),
        6: Signature(far, 1.0),
        7: Signature(None, None),  # unreadable: cannot confirm
        8: Signature(0b1011, 1.0),
    }
    assert pair_set(confirmed(pairs, signatures)) == {(1, 2), (3, 4)}  # (1, 2) on the embedding alone


def test_an_embedding_that_embeds_every_photo_alike_needs_the_hashes_for_every_pair() -> None:
    alike = planted(1, 64, [(0, 0.995)] * 99)  # a random-weight model: every photo close to every other
    found = similar_pairs(np.arange(100, dtype=np.int64), alike, 0.9)
    assert found.typical_similarity > 0.98
    assert len(found) <= 100 * dp.MAX_NEIGHBOURS  # each photo's nearest only: bounded, not 100 * 99 / 2
    unreadable = {i: Signature(None, None) for i in range(100)}
    assert len(confirmed(found, unreadable)) == 0  # 0.99 alone no longer settles a pair
    assert len(confirmed(found, {i: Signature(0, 1.0) for i in range(100)})) == len(found)  # hashes agree
    distinct = planted(100, 64, [(0, 0.995)])
    assert similar_pairs(np.arange(101, dtype=np.int64), distinct, 0.9).typical_similarity < 0.5


def test_hash_distance_counts_bits_of_signed_hashes() -> None:
    assert hash_distance(-1, 0) == 64
    assert hash_distance(-(1 << 63), 0) == 1
    assert hash_distance(0b101, 0b110) == 2


def test_union_find_joins_chains_and_keeps_groups_apart() -> None:
    pairs = Pairs(np.array([5, 1, 2, 9]), np.array([6, 2, 3, 10]), np.ones(4, np.float32))
    assert connected_groups(pairs) == [[1, 2, 3], [5, 6], [9, 10]]


def test_sharpness_is_higher_for_the_sharp_image() -> None:
    rng = np.random.default_rng(0)
    sharp = (rng.random((64, 64)) * 255).astype(np.uint8)
    blurred = np.asarray(Image.fromarray(sharp).resize((16, 16)).resize((64, 64), Image.Resampling.BILINEAR))
    assert laplacian_variance(sharp) > 4 * laplacian_variance(blurred)
    assert laplacian_variance(np.zeros((2, 2))) == 0.0


def test_signatures_survive_resizing_and_tell_different_photos_apart(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    scene = Image.fromarray((rng.random((12, 16, 3)) * 255).astype(np.uint8)).resize((320, 240))
    scene.save(tmp_path / "a.jpg", quality=95)
    scene.resize((160, 120)).save(tmp_path / "a-small.jpg", quality=40)
    Image.fromarray((rng.random((12, 16, 3)) * 255).astype(np.uint8)).resize((320, 240)).save(tmp_path / "b.jpg")
    a, small, b = (read_signature((str(tmp_path / n),)) for n in ("a.jpg", "a-small.jpg", "b.jpg"))
    assert a.phash is not None and small.phash is not None and b.phash is not None
    assert hash_distance(a.phash, small.phash) <= dp.HASH_DISTANCE < hash_distance(a.phash, b.phash)
    assert read_signature((str(tmp_path / "missing.jpg"),)) == Signature(None, None)


def blobs(seed: int) -> Image.Image:
    """A photo-like picture: soft coloured discs on grey."""
    from PIL import ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (640, 480), (128, 128, 128))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y, r = int(rng.integers(0, 640)), int(rng.integers(0, 480)), int(rng.integers(20, 120))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return image.filter(ImageFilter.GaussianBlur(3))


def test_a_crop_is_confirmed_through_a_window_of_its_original(tmp_path: Path) -> None:
    original = blobs(2)
    original.save(tmp_path / "original.jpg", quality=90)
    w, h = original.size
    original.crop((w * 3 // 40, h * 3 // 40, w - w * 3 // 40, h - h * 3 // 40)).save(tmp_path / "crop.jpg", quality=90)
    a, crop = (read_signature((str(tmp_path / name),)) for name in ("original.jpg", "crop.jpg"))
    assert a.phash is not None and crop.phash is not None and len(a.crop_hashes) == len(CROP_WINDOWS)
    distance = signature_distance(a, crop)
    assert distance is not None and distance <= dp.HASH_DISTANCE < hash_distance(a.phash, crop.phash)
    pair = Pairs(np.array([1]), np.array([2]), np.array([0.93], np.float32), typical_similarity=0.3)
    assert len(confirmed(pair, {1: a, 2: crop})) == 1
    assert signature_distance(a, Signature(None, None)) is None


# The service on a library: the fake encoder embeds a photo as its mean colour, so photos of one colour
# are near-duplicates of each other by the embedding alone.


@pytest.fixture
def library(home: Path, tmp_path: Path) -> Iterator[Library]:
    photos = tmp_path / "photos"
    make_photo(photos / "red-big.jpg", "red", (128, 96))
    make_photo(photos / "red-1.jpg", "red")
    make_photo(photos / "red-2.jpg", "red")
    make_photo(photos / "blue-1.jpg", "blue")
    make_photo(photos / "blue-2.jpg", "blue", (80, 60))
    make_photo(photos / "green.jpg", "green")
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    yield lib
    lib.close()


def by_stem(group_members: object) -> list[str]:
    return [Path(m.path).stem for m in group_members]  # type: ignore[attr-defined]


def test_find_groups_the_copies_and_suggests_the_largest(library: Library) -> None:
    report = Duplicates(library).find()
    groups = Duplicates(library).groups()
    assert (report.groups, report.duplicates) == (2, 3)
    assert [by_stem(g.members)[0] for g in groups] == ["red-big", "blue-2"]  # largest first, best copy first
    assert sorted(by_stem(groups[0].members)) == ["red-1", "red-2", "red-big"]
    assert [m.duplicate for m in groups[0].members] == [False, True, True]
    assert not groups[0].reviewed
    assert report.hashed == 5  # the green photo is in no pair and is never decoded


def test_marks_survive_a_new_search_and_a_restart(library: Library, home: Path) -> None:
    dups = Duplicates(library)
    dups.find()
    red, blue = dups.groups()
    small = next(m.photo_id for m in red.members if m.duplicate)
    dups.keep(red.id, small)  # the person keeps a smaller copy
    dups.mark([blue.members[1].photo_id], False)  # and says this blue one is no duplicate
    library.close()
    reopened = open_library(home)
    try:
        again = Duplicates(reopened)
        assert again.find().hashed == 0  # signatures are stored
        red2, blue2 = again.groups()
        assert red2.members[0].photo_id == small and red2.reviewed
        assert [m.duplicate for m in blue2.members] == [False, False]
        assert again.duplicate_photo_ids() == {m.photo_id for m in red2.members[1:]}
    finally:
        reopened.close()


def test_keep_refuses_a_photo_of_another_group(library: Library) -> None:
    dups = Duplicates(library)
    dups.find()
    red, blue = dups.groups()
    with pytest.raises(UserError, match="not in duplicate group"):
        dups.keep(red.id, blue.members[0].photo_id)


def test_export_lists_keep_and_duplicates_and_refuses_photo_folders(library: Library, tmp_path: Path) -> None:
    import json

    dups = Duplicates(library)
    dups.find()
    assert dups.export(tmp_path / "dups.json") == 2
    data = json.loads((tmp_path / "dups.json").read_text(encoding="utf-8"))
    assert data["format"] == "photosift-duplicates" and len(data["groups"][0]["duplicates"]) == 2
    with pytest.raises(UserError, match="never writes into photo folders"):
        dups.export(tmp_path / "photos" / "dups.json")


def test_a_deleted_photo_leaves_its_group(library: Library, tmp_path: Path) -> None:
    dups = Duplicates(library)
    dups.find()
    (tmp_path / "photos" / "blue-1.jpg").unlink()
    library.scan()
    assert [sorted(by_stem(g.members)) for g in dups.groups()] == [["red-1", "red-2", "red-big"]]  # blue: one photo


def test_is_duplicate_finds_the_marked_copies_and_minus_hides_them(library: Library) -> None:
    Duplicates(library).find()
    stems = lambda query: {Path(h.path).stem for h in library.search(query, limit=50).hits}  # noqa: E731
    assert stems("is:duplicate") == {"red-1", "red-2", "blue-1"}
    assert stems("-is:duplicate") == {"red-big", "blue-2", "green"}
    assert stems("red -is:duplicate") == {"red-big", "blue-2", "green"}  # ranked, within the kept copies
    assert stems("IS:Duplicate folder:photos") == stems("is:duplicate")


def test_only_is_duplicate_can_be_excluded_besides_tags(library: Library) -> None:
    from photosift.core.errors import QueryError

    with pytest.raises(QueryError, match="Only tag: and is:duplicate filters can be excluded"):
        library.search("-is:favourite")
    with pytest.raises(QueryError, match="favourite or duplicate"):
        library.search("is:copy")


def test_search_writes_nothing_and_save_stores_its_groups_and_signatures(library: Library) -> None:
    import sqlite3

    dups = Duplicates(library)
    watcher = sqlite3.connect(library.paths.database)  # data_version counts commits by other connections
    version = lambda: watcher.execute("PRAGMA data_version").fetchone()[0]  # noqa: E731
    before = version()
    findings = dups.search()
    assert version() == before  # the reading part committed nothing: it can run beside the writer
    assert findings.groups is not None and len(findings.groups) == 2 and len(findings.new_signatures) == 5
    assert dups.groups() == []
    report = dups.save(findings)
    assert version() != before
    assert (report.groups, report.duplicates, report.hashed) == (2, 3, 5)
    stored = store.read_signatures(library.catalog.engine, list(findings.new_signatures))
    assert stored == findings.new_signatures and all(
        len(sig.crop_hashes) == len(CROP_WINDOWS) for sig in stored.values()
    )
    assert dups.search().new_signatures == {}  # the signatures were stored
    watcher.close()


def test_a_search_stopped_while_reading_photos_keeps_their_signatures_and_the_earlier_groups(
    library: Library,
) -> None:
    dups = Duplicates(library)
    token = CancelToken()

    def cancel_while_reading(progress: Progress) -> None:
        if progress.stage == "duplicate-hashes":
            token.cancel()

    with pytest.raises(Cancelled) as stopped:
        dups.find(cancel_while_reading, token)
    partial = stopped.value.partial
    assert isinstance(partial, Findings) and partial.groups is None and len(partial.new_signatures) == 5
    assert dups.groups() == []  # no groups stored from a stopped search
    assert dups.find().hashed == 0  # the signatures read before the cancel were stored
