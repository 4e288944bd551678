"""`photosift favourite`, `rate`, `places` and `search --explain` (text and --json) with the tiny real
model, on photos with GPS written into their EXIF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TEST_MODELS
from place_helpers import make_city_photos

from photosift.app.cli import run
from photosift.core.protocol import EXIT_OK

TINY = str(TEST_MODELS / "tiny.json")


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert run([*argv, "--json", "--model", TINY]) == EXIT_OK
    return json.loads(capsys.readouterr().out)


def run_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert run([*argv, "--model", TINY]) == EXIT_OK
    return capsys.readouterr().out


@pytest.fixture
def indexed(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    travel = make_city_photos(tmp_path / "travel")
    run_json(capsys, "index", str(travel))
    return travel


def stems(page: object) -> set[str]:
    assert isinstance(page, dict)
    return {Path(hit["path"]).stem for hit in page["hits"]}


def test_favourite_rate_places(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tokyo, sydney = str(indexed / "tokyo.jpg"), str(indexed / "sydney.jpg")
    assert run_text(capsys, "favourite", tokyo, sydney) == "Marked as favourite: 2 photos.\n"
    assert run_text(capsys, "favorite", sydney, "--remove") == "Removed from favourites: 1 photo.\n"
    assert run_text(capsys, "rate", "4", tokyo) == "1 photo rated 4 stars.\n"
    assert stems(run_json(capsys, "search", "is:favourite")) == {"tokyo"}
    assert stems(run_json(capsys, "search", "photo rating:>=4")) == {"tokyo"}
    with pytest.raises(SystemExit):  # argparse's usage error, exit 2
        run(["rate", "7", tokyo, "--model", TINY])
    assert "from 0 to 5" in capsys.readouterr().err

    out = run_text(capsys, "places").splitlines()
    assert out[:3] == ["Portugal  (4)", "  Lisbon  (3)", "  Porto  (1)"]
    listed = run_json(capsys, "places")
    assert isinstance(listed, list) and {"country": "Japan", "city": "Tokyo", "photos": 1} in listed


def test_search_explain(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = run_json(capsys, "search", "a red photo place:Lisbon", "--explain", "--limit", "5")
    assert isinstance(page, dict) and len(page["hits"]) == 3
    for hit in page["hits"]:
        assert hit["passes"] and hit["place"]["city"] == "Lisbon"
        (term,) = hit["terms"]
        assert term["value"] == "a red photo" and term["share"] == pytest.approx(hit["score"], abs=1e-5)
        assert hit["filters"][0]["key"] == "place" and hit["filters"][0]["passed"]
    out = run_text(capsys, "search", "a red photo near:38.72,-9.14,1km", "--explain")
    assert "\n              text 'a red photo': similarity" in out
    assert "near:38.72,-9.14,1km passes (0.0 km away)" in out
    assert "taken in Intendente, Lisbon, Portugal" in out
