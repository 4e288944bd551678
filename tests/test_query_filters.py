"""The filters of the query language: keys, values, quoting, repeats, mixing with weighted terms, and
malformed filters that name the position (1-based in the message, 0-based in QueryError.position)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from photosift.core.errors import QueryError
from photosift.core.search.query import parse_query
from photosift.core.search.records import SearchFilters


def terms(text: str) -> list[tuple[str, str, float]]:
    return [(t.kind, t.value, t.weight) for t in parse_query(text).terms]


def test_filters_mix_with_weighted_terms() -> None:
    query = parse_query('beach at dusk tag:family -tag:people 2:sunset album:"Summer 2023" - crowd camera:Pixel')
    assert [(t.kind, t.value, t.weight) for t in query.terms] == [
        ("text", "beach at dusk", 1.0),
        ("text", "sunset", 2.0),
        ("text", "crowd", -1.0),
    ]
    assert query.filters == SearchFilters(
        include_tags=("family",), exclude_tags=("people",), albums=("Summer 2023",), cameras=("Pixel",)
    )


def test_dates_start_their_period_and_repeats_keep_the_tightest() -> None:
    f = parse_query("after:2023-06 before:2024 after:2022 before:2024-03-15").filters
    assert (f.after, f.before) == (datetime(2023, 6, 1), datetime(2024, 1, 1))
    assert parse_query("after:2023-6-5").filters.after == datetime(2023, 6, 5)


def test_sort_values_and_the_last_one_wins() -> None:
    assert parse_query("dog sort:date").filters.sort == "newest"
    assert parse_query("dog sort:oldest").filters.sort == "oldest"
    assert parse_query("sort:date dog sort:relevance").filters.sort == "relevance"


def test_keys_ignore_case_and_repeats_are_kept_once() -> None:
    f = parse_query("TAG:beach Tag:beach Album:A album:B folder:Trips/2023 folder:Trips\\2023").filters
    assert f.include_tags == ("beach",) and f.albums == ("A", "B")
    assert f.folders == (os.path.join("Trips", "2023"),)


def test_folder_paths_resolve_against_base(tmp_path: Path) -> None:
    assert parse_query("folder:./trips", tmp_path).filters.folders == (str(tmp_path / "trips"),)
    assert parse_query(f'folder:"{tmp_path}/my trips"').filters.folders == (str(tmp_path / "my trips"),)


def test_filters_alone_are_a_query() -> None:
    query = parse_query("-tag:people")
    assert query.terms == () and query.filters.exclude_tags == ("people",)
    assert parse_query("+ tag:beach").filters.include_tags == ("beach",)


@pytest.mark.parametrize(
    "text",
    ["foo:bar", "mytag:beach", "photo:12", "beach,after:2023", '"before:sunrise"', "black-and-white tag"],
)
def test_unknown_keys_and_quoted_or_glued_filters_stay_terms(text: str) -> None:
    query = parse_query(text)
    assert query.filters == SearchFilters() and len(query.terms) == 1


def test_a_filter_inside_a_term_ends_it_only_after_a_space() -> None:
    assert terms("red-tag:x dog") == [("text", "red-tag:x dog", 1.0)]
    assert terms("kids tag:x on a slide") == [("text", "kids", 1.0), ("text", "on a slide", 1.0)]


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("beach tag:", "Expected a tag name after 'tag:' at position 11", 10),
        ('tag:""', "Expected a tag name after 'tag:' at position 5", 4),
        (
            "after:2023-13",
            "Expected a date (YYYY, YYYY-MM or YYYY-MM-DD) after 'after:' at position 7, found '2023-13'",
            6,
        ),
        ("dog before:2023-02-30", "position 12, found '2023-02-30'", 11),
        ("before:yesterday", "found 'yesterday'", 7),
        ("dog sort:size", "Expected date, oldest or relevance after 'sort:' at position 10, found 'size'", 9),
        ('album:"Summer 2023', "Unclosed quote at position 7", 6),
        ("dog -album:Summer", "Only tag: and is:duplicate filters can be excluded with '-' (position 5)", 4),
        ("dog - - tag:x", "Expected a term at position 7, found another '-'", 6),
        ("tag:beach -", "Expected a term after the '-' at position 11", 10),
        ("tag:beach - crowd", "only subtracts", None),
        ('folder:"  "', "Expected a folder name or path after 'folder:' at position 8", 7),
    ],
)
def test_malformed_filters_name_the_position(text: str, message: str, position: int | None) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert message in str(caught.value)
    assert caught.value.position == position
