"""Hostile input on the command line: numbers that cannot be photo ids, bad paging, NUL bytes, weights that
overflow, unreadable image terms. Each ends in a sentence and the right exit code, never "internal error"."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest
from conftest import TEST_MODELS, make_photo

from photosift.app.cli import run
from photosift.app.cli.common import emit
from photosift.core.errors import QueryError, UserError
from photosift.core.protocol import EXIT_OK, EXIT_USAGE, EXIT_USER
from photosift.core.search.query import parse_query
from photosift.core.search.records import SearchHit, SearchPage
from photosift.core.search.references import parse_reference, resolve_photo
from photosift.core.search.vectors import TermEncoders, query_vector

TINY = str(TEST_MODELS / "tiny.json")


@pytest.mark.parametrize("photo", ["#9223372036854775808", "18446744073709551616", "#999999999"])
def test_a_number_that_names_no_photo_says_so(home: Path, photo: str, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["similar", photo], ["albums", "add", "Picks", photo], ["tag", "show", photo]):
        assert run(argv) == EXIT_USER, argv
        assert f"There is no photo #{photo.lstrip('#')} in the library." in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--limit", "-1"], ["--limit", "0"], ["--offset", "-5"], ["--limit", "x"]])
def test_bad_paging_is_a_usage_error(home: Path, option: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(["search", "dog", *option])
    assert exit_info.value.code == EXIT_USAGE
    assert f"argument {option[0]}" in capsys.readouterr().err


def test_nul_bytes_are_refused_as_such(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["search", "./me.jpg\0"]) == EXIT_USER
    assert "NUL byte" in capsys.readouterr().err
    assert run(["similar", "./me.jpg\0"]) == EXIT_USER
    assert "NUL byte" in capsys.readouterr().err
    with pytest.raises(QueryError, match="NUL byte") as error:
        parse_query("beach + folder:/photos\0/x")
    assert error.value.position == 22


def test_weights_that_overflow_and_huge_photo_terms_are_query_errors() -> None:
    with pytest.raises(QueryError, match="too large"):
        parse_query("9" * 400 + ":beach")
    with pytest.raises(QueryError, match="too large"):
        parse_query('999:"999:beach"')
    with pytest.raises(QueryError, match="no photo #99999999999999999999"):
        parse_query("beach + #99999999999999999999")


def test_an_unreadable_image_term_names_its_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a picture")

    def unreadable(path: str) -> None:
        from photosift.core.imageio import load_image

        load_image(Path(path))

    encoders = TermEncoders(lambda texts: [[1.0, 0.0]] * len(texts), unreadable, lambda _: None)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match=f"Cannot search with {bad} \\(position 1\\): not an image"):
        query_vector(parse_query(str(bad)), encoders)


def test_json_output_never_holds_nan(capsys: pytest.CaptureFixture[str]) -> None:
    page = SearchPage((SearchHit(1, "/a.jpg", math.nan), SearchHit(2, "/b.jpg", 0.5)), 0, 20, has_more=False)
    emit(argparse.Namespace(json=True), page, lambda: None)

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    hits = json.loads(capsys.readouterr().out, parse_constant=refuse)["hits"]
    assert [hit["score"] for hit in hits] == [None, 0.5]


class Lookup:
    """A catalog of two photos: #1 at /photos/a.jpg and #2."""

    def photo(self, photo_id: int) -> object | None:
        return object() if photo_id in (1, 2) else None

    def photo_id_for_path(self, path: str) -> int | None:
        return 1 if path == "/photos/a.jpg" else None


def test_one_function_resolves_ids_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lookup = Lookup()
    assert resolve_photo(lookup, "#2") == 2 and resolve_photo(lookup, "2") == 2  # type: ignore[arg-type]
    assert resolve_photo(lookup, "/photos/a.jpg") == 1  # type: ignore[arg-type]
    with pytest.raises(UserError, match="There is no photo #3 in the library"):
        resolve_photo(lookup, "#3")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="is not a photo in the library"):
        resolve_photo(lookup, "/photos/b.jpg")  # type: ignore[arg-type]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "12").write_text("a file named like an id")
    assert parse_reference("12") == Path("12") and parse_reference("#12") == 12
    assert parse_reference("١٢") == Path("١٢")  # digits of another script are not an id


def test_similar_on_an_empty_library_is_not_a_bug(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["status"]) == EXIT_OK
    capsys.readouterr()
    assert run(["similar", "#1"]) == EXIT_USER
    assert "There is no photo #1 in the library." in capsys.readouterr().err


def test_dates_beyond_what_the_catalog_compares_match_all_or_nothing(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from photosift.core.search.filters import EARLIEST_DATE, LATEST_DATE

    assert parse_query("before:9999").filters.before == LATEST_DATE
    assert parse_query("after:0001").filters.after == EARLIEST_DATE
    photo = make_photo(tmp_path / "photos" / "red.jpg", "red")
    assert run(["index", str(photo.parent), "--model", TINY]) == EXIT_OK
    capsys.readouterr()
    for argv, found in (
        (["search", "before:9999"], True),
        (["search", "after:0001"], True),
        (["search", "sort:date", "--after", "9999"], False),
    ):
        assert run(argv) == EXIT_OK, capsys.readouterr().err
        out = capsys.readouterr().out
        assert (str(photo) in out) if found else out == "No matching photos.\n", (argv, out)
