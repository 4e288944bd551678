"""Favourites and star ratings: kept in the catalog (never in the photo file), the is:favourite and
rating: filters, and "why this matched" (core.search.explain)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from place_helpers import make_city_photos
from sqlalchemy import func, select
from test_library import open_library

from photosift.core.catalog import schema as s
from photosift.core.catalog.marks import PhotoMarks
from photosift.core.errors import QueryError, UserError
from photosift.core.library import Library
from photosift.core.ocr import store
from photosift.core.ocr.blend import TEXT_BONUS
from photosift.core.search.explain import describe, explain, explain_hits


@pytest.fixture
def library(home: Path, tmp_path: Path) -> Iterator[Library]:
    lib = open_library(home)
    lib.add_folder(make_city_photos(tmp_path / "travel"))
    lib.scan()
    lib.index()
    yield lib
    lib.close()


def ids(lib: Library) -> dict[str, int]:
    return {Path(h.path).stem: h.photo_id for h in lib.search("red", limit=100).hits}


def names(lib: Library, query: str) -> set[str]:
    return {Path(hit.path).stem for hit in lib.search(query, limit=100).hits}


def test_marks_are_stored_in_the_catalog_not_the_file(library: Library, tmp_path: Path) -> None:
    photo = tmp_path / "travel" / "tokyo.jpg"
    before = hashlib.sha256(photo.read_bytes()).hexdigest()
    tokyo = ids(library)["tokyo"]
    assert library.marks.set_favourite([tokyo], True) == 1
    assert library.marks.set_rating([tokyo], 4) == 1
    assert library.marks.of([tokyo]) == {tokyo: PhotoMarks(True, 4)}
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == before
    library.marks.set_favourite([tokyo], False)
    library.marks.set_rating([tokyo], 0)
    assert library.marks.of([tokyo]) == {tokyo: PhotoMarks()}
    with library.catalog.engine.connect() as conn:  # cleared marks leave no row behind
        assert conn.execute(select(func.count()).select_from(s.photo_marks)).scalar_one() == 0


def test_a_rating_is_zero_to_five_stars(library: Library) -> None:
    with pytest.raises(UserError, match="0 to 5"):
        library.marks.set_rating([ids(library)["tokyo"]], 6)
    assert library.marks.set_rating([999_999], 3) == 0  # not a photo of the library: nothing touched


def test_favourite_and_rating_filters(library: Library) -> None:
    photo = ids(library)
    library.marks.set_favourite([photo["tokyo"], photo["sydney"]], True)
    library.marks.set_rating([photo["tokyo"]], 5)
    library.marks.set_rating([photo["lisbon"], photo["sydney"]], 3)
    assert names(library, "is:favourite") == {"tokyo", "sydney"}
    assert names(library, "is:Favorite") == {"tokyo", "sydney"}
    assert names(library, "rating:>=4") == {"tokyo"}
    assert names(library, "rating:3") == names(library, "rating:=3") == {"lisbon", "sydney"}
    assert names(library, "rating:>3") == {"tokyo"}
    assert names(library, "rating:>=2 rating:<=4") == {"lisbon", "sydney"}  # every bound holds
    assert names(library, "is:favourite rating:<5") == {"sydney"}
    unrated = names(library, "rating:0")
    assert "porto" in unrated and "no-gps" in unrated and "tokyo" not in unrated
    assert names(library, "rating:<3") == unrated  # unrated photos count as 0 stars
    with pytest.raises(QueryError, match="rating:"):
        library.search("rating:>=6")


def test_marks_go_with_their_photo(library: Library, tmp_path: Path) -> None:
    library.marks.set_favourite([ids(library)["tokyo"]], True)
    (tmp_path / "travel" / "tokyo.jpg").unlink()
    library.scan()
    assert names(library, "is:favourite") == set()
    with library.catalog.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(s.photo_marks)).scalar_one() == 0


def test_explain_splits_the_score_into_term_shares(library: Library) -> None:
    query = "red + 0.5:blue - green"
    hit = library.search(query).hits[0]
    why = explain(library, query, hit.photo_id)
    assert why.score == pytest.approx(hit.score, abs=1e-4)
    assert [(t.value, t.weight) for t in why.terms] == [("red", 1.0), ("blue", 0.5), ("green", -1.0)]
    assert sum(t.share for t in why.terms) == pytest.approx(why.score, abs=1e-5)
    red, blue, _ = why.terms
    assert red.similarity > blue.similarity  # the best hit is a red photo


def test_explain_lists_filters_place_and_marks(library: Library) -> None:
    lisbon = ids(library)["lisbon"]
    library.marks.set_rating([lisbon], 2)
    why = explain(library, "red place:Lisbon near:38.72,-9.14,1km rating:>=4 is:favourite", lisbon)
    checks = {c.key: c for c in why.filters}
    assert checks["place"].passed and checks["place"].detail == "Intendente, Lisbon, Portugal"
    assert checks["near"].passed and checks["near"].detail == "0.0 km away"
    assert not checks["rating"].passed and checks["rating"].detail == "2 stars"
    assert checks["rating"].value == ">=4"
    assert not checks["is"].passed and checks["is"].value == "favourite"
    assert not why.passes
    assert why.place is not None and why.place.country_code == "PT"
    assert why.marks == PhotoMarks(False, 2)
    (kept,) = explain(library, "red -is:duplicate", lisbon).filters  # no copy is marked: it passes
    assert (kept.key, kept.value, kept.passed) == ("-is", "duplicate", True)


def test_explain_a_photo_without_gps_or_terms(library: Library) -> None:
    no_gps = next(i for name, i in ids(library).items() if name == "no-gps")
    why = explain(library, "country:Portugal", no_gps)
    assert why.score is None and why.terms == ()
    (check,) = why.filters
    assert not check.passed and check.detail.startswith("no place")
    with pytest.raises(QueryError, match="no photo #999999"):
        explain(library, "red", 999_999)


def test_explain_names_matching_tags_and_recognised_text(library: Library) -> None:
    photo = ids(library)
    tokyo, porto = photo["tokyo"], photo["porto"]
    library.tags.add("red things", ["red"], "colours")
    library.tags.accept([(tokyo, "red things")])
    store.save(
        library.catalog.engine, [store.TextRow(tokyo, "text", "RED THINGS sale tonight"), store.TextRow(porto, "none")]
    )
    query = "red things at night"  # "at" is too short to count; "night" is inside "tonight"
    why = explain(library, query, tokyo)
    assert why.tags == ("red things",)
    assert why.recognised_words == ("red", "things", "night") and why.text_bonus == TEXT_BONUS
    hit = next(h for h in library.search(query, limit=20).hits if h.photo_id == tokyo)
    assert why.score == pytest.approx(hit.score, abs=1e-4)  # the bonus is in the ranking's score too
    assert sum(t.share for t in why.terms) + why.text_bonus == pytest.approx(why.score, abs=1e-5)
    assert any(line.startswith("its text holds red, things, night: +0.100") for line in describe(why))
    read_nothing = explain(library, query, porto)
    assert read_nothing.recognised_words == () and read_nothing.text_bonus == 0.0
    assert explain(library, query, photo["sydney"]).recognised_words is None  # its text was never read


def test_a_page_is_explained_with_one_encoding_of_the_query(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    query = "red + blue place:Lisbon"
    hits = library.search(query).hits
    encoded: list[list[str]] = []
    encode = library.encoder.encode_texts
    monkeypatch.setattr(library.encoder, "encode_texts", lambda texts: encoded.append(texts) or encode(texts))
    page = explain_hits(library, query, [h.photo_id for h in hits])
    assert encoded == [["red", "blue"]]
    assert [why.score for why in page] == pytest.approx([h.score for h in hits], abs=1e-4)
    assert all(why.passes for why in page) and len(page) == 3
    lines = describe(page[0])
    red, blue = page[0].terms
    assert lines[:2] == [
        f"+1 x text 'red': similarity {red.similarity:.3f}, adds {red.share:+.3f}",
        f"+1 x text 'blue': similarity {blue.similarity:.3f}, adds {blue.share:+.3f}",
    ]  # each term's part of the score, where there are several
