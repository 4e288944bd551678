"""The combined-query language: terms, weights, signs, image paths, and errors that name a position."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_photo

from photosift.core.errors import QueryError
from photosift.core.search.query import parse_query


def kinds(text: str, base: Path | None = None) -> list[tuple[str, str, float]]:
    return [(t.kind, t.value, t.weight) for t in parse_query(text, base).terms]


def test_plain_text_is_one_term() -> None:
    assert kinds("kids on a red slide at dusk") == [("text", "kids on a red slide at dusk", 1.0)]


def test_hyphenated_words_are_not_operators() -> None:
    assert kinds("black-and-white dog -cat") == [("text", "black-and-white dog", 1.0), ("text", "cat", -1.0)]


def test_weights_signs_and_image_paths(tmp_path: Path) -> None:
    make_photo(tmp_path / "me.jpg")
    terms = kinds('"2:beach" + ./me.jpg - crowd', base=tmp_path)
    assert terms == [("text", "beach", 2.0), ("image", str(tmp_path / "me.jpg"), 1.0), ("text", "crowd", -1.0)]


def test_weight_outside_quotes_and_fractional() -> None:
    assert kinds('2:"sunset sky" + 0.5:sea') == [("text", "sunset sky", 2.0), ("text", "sea", 0.5)]


def test_library_photo_by_id() -> None:
    assert kinds("#12 - people") == [("photo", "12", 1.0), ("text", "people", -1.0)]
    assert kinds("photo:7") == [("photo", "7", 1.0)]


def test_quoted_path_with_spaces(tmp_path: Path) -> None:
    make_photo(tmp_path / "my photos" / "ünï cödé.jpg")
    assert kinds(f'"{tmp_path}/my photos/ünï cödé.jpg"')[0][0] == "image"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("beach +", "after the '+' at position 7"),
        ('"beach', "Unclosed quote at position 1"),
        ("- crowd", "only subtracts"),
        ("beach + + dog", "position 9"),
        ("./missing.jpg", "No image file at ./missing.jpg (position 1)"),
    ],
)
def test_malformed_queries_name_the_problem(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        parse_query(text, tmp_path)
