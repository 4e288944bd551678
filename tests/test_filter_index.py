"""The filter index answers exactly what the SQL path answers (issue 17): on randomised libraries with
awkward folder names, undated photos, several files per photo and missing cameras, every random
combination of filters lets the same photos through, and they come out in the same date order."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from photosift.core.catalog import Catalog
from photosift.core.catalog import schema as s
from photosift.core.catalog.database import write_transaction
from photosift.core.catalog.photo_filters import capture_order, dated_order, timeline_page
from photosift.core.search.filter_index import FilterIndex
from photosift.core.search.photo_columns import PhotoColumns
from photosift.core.search.ranking import allowed_photo_ids
from photosift.core.search.records import SearchFilters

ROOTS = ("/home/ann/Pictures", "/media/Ann_Photos", "/srv/50%/Été")
DIRS = ("2014", "2014/Trips", "trips/2023", "TRIPS/2023/x", "a_b", "aXb", "50%", "été", "ÉTÉ", "Pictures", "")
CAMERAS = ("Canon EOS R6", "canon eos 5d", "Google Pixel 7", "NIKON_D750", "x%y", None)
FOLDER_NAMES = ("2014", "trips", "Trips/2023", "a_b", "50%", "été", "ÉTÉ", "Pictures", "Ann_Photos", "Été", "x", "201")
START = datetime(2012, 1, 1)
EDGES: list[datetime] = []  # the times of the photos and files of the last catalog built


class Sources:
    """Tags and albums as the library would give them: fixed random sets of photo ids."""

    def __init__(self, rng: np.random.Generator, photo_ids: list[int]) -> None:
        self.sets = {name: set(rng.choice(photo_ids, size=rng.integers(0, len(photo_ids)))) for name in "abcde"}

    def tagged_photo_ids(self, name: str) -> set[int]:
        return {int(i) for i in self.sets[name]}

    def album_photo_ids(self, name: str) -> set[int]:
        return {int(i) for i in self.sets[name]}


def build_catalog(path: Path, rng: np.random.Generator, n: int, step: int = 1) -> Catalog:
    """A catalog of `n` photos, ids `step` apart; EDGES gets their exact times, so date filters are tried on
    the boundaries."""
    catalog = Catalog(path)
    EDGES.clear()
    now = datetime(2026, 1, 1)
    photos, files = [], []
    for photo_id in range(step, step * n + 1, step):
        dated = rng.random() > 0.3
        taken = START + timedelta(days=int(rng.integers(0, 1500)), seconds=int(rng.integers(0, 86400)))
        camera = CAMERAS[rng.integers(0, len(CAMERAS))]
        photos.append({"id": photo_id, "fingerprint": f"{photo_id}", "size": 1, "status": "ok", "camera": camera})
        photos[-1]["taken_at"] = taken if dated else None
        EDGES.append(taken)
        for copy in range(int(rng.integers(1, 3))):  # one or two files a photo
            root = int(rng.integers(0, len(ROOTS)))
            sub = DIRS[rng.integers(0, len(DIRS))]
            folder = os.path.join(ROOTS[root], sub) if sub else ROOTS[root]
            mtime = START + timedelta(days=int(rng.integers(0, 1500)))
            path = os.path.join(folder, f"IMG_{photo_id}_{copy}.jpg")
            files.append({"photo_id": photo_id, "folder_id": root + 1, "path": path, "size": 1})
            files[-1]["mtime_ns"] = int(mtime.timestamp() * 1e9) + int(rng.integers(0, 10**9)) * int(rng.random() < 0.5)
            EDGES.append(mtime)
    with write_transaction(catalog.engine) as conn:
        conn.execute(s.folders.insert(), [{"path": r, "status": "ok", "added_at": now} for r in ROOTS])
        conn.execute(s.photos.insert(), photos)
        conn.execute(s.files.insert(), files)
    return catalog


def random_filters(rng: np.random.Generator) -> SearchFilters:
    def some(pool: tuple[str, ...], most: int) -> tuple[str, ...]:
        return tuple(str(pool[i]) for i in rng.choice(len(pool), size=rng.integers(0, most + 1), replace=False))

    folders = some(FOLDER_NAMES, 2) + tuple(
        os.path.join(ROOTS[rng.integers(0, len(ROOTS))], d) + ("/" if rng.random() < 0.3 else "")
        for d in some(("2014", "201", "trips", "TRIPS", "été", ""), 1)
    )
    day = START + timedelta(days=int(rng.integers(-30, 1530)), hours=int(rng.integers(0, 24)))
    if rng.random() < 0.5:
        day = EDGES[rng.integers(0, len(EDGES))]
    return SearchFilters(
        folders=folders,
        after=day if rng.random() < 0.4 else None,
        before=day + timedelta(days=int(rng.integers(0, 400)) * int(rng.random() < 0.7))
        if rng.random() < 0.4
        else None,
        cameras=some(("canon", "EOS", "pixel", "_d7", "%", "zz"), 2),
        albums=some(("a", "b"), 2),
        include_tags=some(("c", "d"), 1),
        exclude_tags=some(("e",), 1),
    )


@pytest.mark.parametrize(("seed", "step"), [(1, 1), (2, 2), (3, 9)])  # ids dense (a table of positions) or not
def test_masks_equal_the_sql_path_on_random_libraries(tmp_path: Path, seed: int, step: int) -> None:
    rng = np.random.default_rng(seed)
    catalog = build_catalog(tmp_path / "catalog.sqlite3", rng, 300, step)
    sources = Sources(rng, list(range(step // 2, step * 300 + 1, step // 2 or 1)))  # some ids no photo has
    index = FilterIndex(catalog.engine, catalog.path, sources)
    index.columns()  # read now: by itself the first filtered search goes through SQL
    for _ in range(60):
        filters = tuple(random_filters(rng) for _ in range(int(rng.integers(1, 3))))
        expected = allowed_photo_ids(catalog.engine, sources, filters)
        found = index.allowed(filters)
        assert (found is None) == (expected is None), filters
        if found is None or expected is None:
            continue
        assert found.tolist() == sorted(expected), filters
        for newest in (True, False):
            assert index.capture_order(found, newest) == capture_order(catalog.engine, expected, newest)
    columns = index.columns()
    probe = rng.integers(-3, int(columns.ids[-1]) + 5, 500)
    where = {int(i): k for k, i in enumerate(columns.ids)}
    assert columns.positions(probe).tolist() == [where[int(i)] for i in probe if int(i) in where]
    for edge in EDGES[::10]:  # each filter alone, on a photo's or a file's exact time
        for filters in (SearchFilters(after=edge), SearchFilters(before=edge), SearchFilters(after=edge, before=edge)):
            expected = allowed_photo_ids(catalog.engine, sources, (filters,))
            assert index.allowed((filters,)).tolist() == sorted(expected or ()), filters  # type: ignore[union-attr]
    for newest in (True, False):
        assert index.capture_order(None, newest) == capture_order(catalog.engine, None, newest)
    index.close()
    catalog.close()


def test_filters_follow_writes_from_any_connection(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    catalog = build_catalog(tmp_path / "catalog.sqlite3", rng, 50)
    sources = Sources(rng, list(range(1, 51)))
    index = FilterIndex(catalog.engine, catalog.path, sources)
    pixel = (SearchFilters(cameras=("Leica",)),)
    found = index.allowed(pixel)
    assert found is not None and found.size == 0
    other = Catalog(catalog.path)  # another connection, as another process would write
    with write_transaction(other.engine) as conn:
        conn.execute(s.photos.update().where(s.photos.c.id.in_([3, 9])).values(camera="Leica Q2"))
    found = index.allowed(pixel)
    assert found is not None and found.tolist() == [3, 9]
    tagged = (SearchFilters(include_tags=("a",)),)
    before = index.allowed(tagged)
    assert before is not None and before.tolist() != [5]
    sources.sets["a"] = {5}  # a tag answer is kept until the catalog changes, then asked again
    assert index.allowed(tagged).tolist() == before.tolist()  # type: ignore[union-attr]
    with write_transaction(other.engine) as conn:
        conn.execute(s.photos.update().where(s.photos.c.id == 5).values(camera="Leica M"))
    assert index.allowed(tagged).tolist() == [5]  # type: ignore[union-attr]
    other.close()
    index.close()
    catalog.close()


def test_a_library_search_with_filters_only_lists_by_date(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    catalog = build_catalog(tmp_path / "catalog.sqlite3", rng, 40)
    index = FilterIndex(catalog.engine, catalog.path, Sources(rng, list(range(1, 41))))
    filters = (SearchFilters(folders=("trips",), sort="newest"),)
    allowed = index.allowed(filters)
    assert allowed is not None and 0 < allowed.size < 40
    columns = index.columns()
    when = [columns.when_us[columns.ids.tolist().index(i)] for i in index.capture_order(allowed, True)]
    assert when == sorted(when, reverse=True)
    index.close()
    catalog.close()


def test_a_path_that_is_not_utf8_passes_folder_filters(tmp_path: Path) -> None:
    """The one difference from the SQL path, which compares the stored BLOB with text and never matches."""
    catalog = build_catalog(tmp_path / "catalog.sqlite3", np.random.default_rng(5), 5)
    latin1 = os.fsdecode(ROOTS[0].encode() + b"/caf\xe9/2014/IMG_9.jpg")  # as os.scandir names it
    with write_transaction(catalog.engine) as conn:
        conn.execute(s.photos.insert(), [{"id": 99, "fingerprint": "99", "size": 1, "status": "ok"}])
        conn.execute(s.files.insert(), [{"photo_id": 99, "folder_id": 1, "path": latin1, "size": 1, "mtime_ns": 0}])
    index = FilterIndex(catalog.engine, catalog.path, Sources(np.random.default_rng(5), [1]))
    index.columns()
    for folder in ("2014", os.fsdecode(ROOTS[0].encode() + b"/caf\xe9")):
        found = index.allowed((SearchFilters(folders=(folder,)),))
        assert found is not None and 99 in found.tolist()
    index.close()
    catalog.close()


def test_columns_are_read_once_the_catalog_stands_still(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While commits come between searches (an indexing run, tagging) each search goes through SQL, as it
    did before the columns; the second filtered search in a row on an unchanged catalog reads them."""
    catalog = build_catalog(tmp_path / "catalog.sqlite3", np.random.default_rng(9), 30)
    sources = Sources(np.random.default_rng(9), [1])
    index = FilterIndex(catalog.engine, catalog.path, sources)
    reads: list[int] = []
    read = PhotoColumns.read
    monkeypatch.setattr(PhotoColumns, "read", lambda engine: reads.append(1) or read(engine))
    filters = (SearchFilters(folders=("2014",)),)
    expected = sorted(allowed_photo_ids(catalog.engine, sources, filters) or ())
    for photo_id in (1, 2):
        assert index.allowed(filters).tolist() == expected  # type: ignore[union-attr]
        assert index.capture_order(None, True) == capture_order(catalog.engine, None, True)
        with write_transaction(catalog.engine) as conn:
            conn.execute(s.photos.update().where(s.photos.c.id == photo_id).values(camera="Leica"))
    assert reads == []
    for folder in ("2014", "2015", "2016"):  # a question answered before is not asked again (below)
        asked = (SearchFilters(folders=(folder,)),)
        assert index.allowed(asked).tolist() == sorted(allowed_photo_ids(catalog.engine, sources, asked) or ())  # type: ignore[union-attr]
    assert reads == [1]
    index.close()
    catalog.close()


def test_an_answer_is_kept_read_only_until_the_catalog_changes(tmp_path: Path) -> None:
    """A search typed with one filter asks the same question each time: the answer is the same array,
    which the vector index recognises (core.vindex_subset), and nobody may change it."""
    catalog = build_catalog(tmp_path / "catalog.sqlite3", np.random.default_rng(13), 30)
    sources = Sources(np.random.default_rng(13), [1])
    index = FilterIndex(catalog.engine, catalog.path, sources)
    filters = (SearchFilters(folders=("2014",)), SearchFilters(cameras=("Pixel",)))
    first = index.allowed(filters)
    assert first is not None and index.allowed(filters) is first
    assert index.allowed(tuple(filters)) is first  # an equal question, not only the same object
    with pytest.raises(ValueError, match="read-only"):
        first[:1] = 0
    other = Catalog(catalog.path)
    with write_transaction(other.engine) as conn:
        conn.execute(s.photos.update().values(camera="Google Pixel 9"))
    other.close()
    again = index.allowed(filters)
    assert again is not first and again is not None
    assert again.tolist() == sorted(allowed_photo_ids(catalog.engine, sources, filters) or ())
    index.close()
    catalog.close()


def test_a_timeline_page_is_that_slice_of_every_photo_in_date_order(tmp_path: Path) -> None:
    """The home view's pages read only as far as the page from two ordered streams (dated photos, and
    photos dated by their files); page by page they must be what sorting every photo gives, with ties in
    id order, a photo left with no file out, and photos marked as duplicates hidden on request."""
    catalog = build_catalog(tmp_path / "catalog.sqlite3", np.random.default_rng(7), 300)
    tie, old_tie = datetime(2013, 5, 5, 12), datetime(1970, 6, 1)  # the second among the oldest photos
    with write_transaction(catalog.engine) as conn:
        conn.execute(s.photos.update().where(s.photos.c.id.in_([40, 12, 25])).values(taken_at=tie))
        conn.execute(s.photos.update().where(s.photos.c.id.in_([41, 13, 26, 7])).values(taken_at=old_tie))
        conn.execute(s.files.delete().where(s.files.c.photo_id == 20))
        conn.execute(s.duplicate_groups.insert(), [{"id": 1, "best_photo_id": 30, "found_at": tie}])
        marks = [
            {"photo_id": i, "group_id": 1, "similarity": 0.99, "duplicate": i != 30, "by_user": False}
            for i in (30, 31, 12)
        ]
        conn.execute(s.duplicate_members.insert(), marks)
    everything = dated_order(catalog.engine, None, newest_first=True)
    hidden = {31, 12}
    for hide in (False, True):
        expected = [row for row in everything if not hide or row[0] not in hidden]
        assert 20 not in dict(expected) and len(expected) == 299 - 2 * hide
        for offset, limit in (
            (0, 1),
            (0, 50),
            (37, 50),
            (120, 40),
            (150, 10),
            (250, 100),
            (290, 9),
            (296, 10),
            (299, 10),
        ):
            page, total = timeline_page(catalog.engine, offset, limit, hide)
            assert (page, total) == (expected[offset : offset + limit], len(expected)), (hide, offset)
    assert [i for i, _ in everything if i in (40, 12, 25)] == [12, 25, 40]
    assert [i for i, _ in everything][-4:] == [7, 13, 26, 41]
    catalog.close()
