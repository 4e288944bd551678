"""Text in photos on the command line, with the tiny real model and the real OCR models: `photosift index`
reads the text after embedding (or not, with --no-ocr), `search text:` finds it, `photosift text` prints it.
`photosift watch` reading text is tested with the watcher in tests/test_cli.py (one process for both)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import TEST_MODELS, make_photo
from test_ocr import make_sign

from photosift.app.cli import run
from photosift.core.protocol import EXIT_OK
from photosift.core.settings import Paths, Settings, save_settings

TINY = str(TEST_MODELS / "tiny.json")


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert run([*argv, "--json", "--model", TINY]) == EXIT_OK
    found = json.loads(capsys.readouterr().out)
    assert isinstance(found, dict)
    return found


def test_index_reads_the_text_after_embedding_and_search_and_text_find_it(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    make_sign(photos / "sign.jpg", "BLUE HARBOUR")
    make_photo(photos / "red.jpg", "red")
    save_settings(Paths(home), Settings(ocr="all"))  # the tiny random model makes the gate meaningless

    skipped = run_json(capsys, "index", str(photos), "--no-ocr")
    assert skipped["ocr"] is None and skipped["index"]["embedded"] == 2  # type: ignore[index]

    summary = run_json(capsys, "index")
    assert summary["ocr"]["read"] == 2 and summary["ocr"]["with_text"] == 1  # type: ignore[index]
    page = run_json(capsys, "search", "text:harbour")
    hits = page["hits"]
    assert isinstance(hits, list) and [Path(hit["path"]).name for hit in hits] == ["sign.jpg"]

    assert run(["text", str(photos / "sign.jpg"), "--model", TINY]) == EXIT_OK
    assert "HARBOUR" in capsys.readouterr().out.upper()
    status = run_json(capsys, "status")["ocr"]
    assert status == {"mode": "all", "pending": 0, "text": 1, "none": 1, "unlikely": 0, "failed": 0}


@pytest.mark.parametrize("mode", ["likely", "all"])
def test_without_the_ocr_extra_index_says_so_and_succeeds_unless_all_was_asked_for(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """The README's plain install leaves the extra out: the default mode must not fail every index run."""
    import numpy as np

    from photosift.core.ocr.gate import GatePrompts
    from photosift.core.protocol import EXIT_USER

    make_sign(tmp_path / "photos" / "sign.jpg", "BLUE HARBOUR")
    save_settings(Paths(home), Settings(ocr=mode))  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # an install without the extra
    monkeypatch.setattr(GatePrompts, "likely_text", lambda self, vectors: np.ones(len(vectors), bool))
    code = run(["index", str(tmp_path / "photos"), "--model", TINY])
    err = capsys.readouterr().err
    assert "needs the ocr extra: pip install 'photosift[ocr]'" in err
    assert code == (EXIT_OK if mode == "likely" else EXIT_USER)


def test_text_of_a_photo_not_read_says_why_and_what_would_read_it(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from photosift.core.catalog import Catalog
    from photosift.core.ocr import store

    photos = tmp_path / "photos"
    make_photo(photos / "red.jpg", "red")
    make_photo(photos / "blue.jpg", "blue")
    (photos / "notes.jpg").write_text("not a photo")
    assert run(["index", str(photos), "--no-ocr", "--model", TINY]) == EXIT_OK  # notes.jpg fails, reported
    capsys.readouterr()

    def said(name: str) -> str:
        assert run(["text", str(photos / name)]) == EXIT_OK
        return capsys.readouterr().out

    assert "has not been looked at yet: `photosift index` reads new photos' text" in said("red.jpg")
    assert "could not be read at all, so its text could not be either: not an image" in said("notes.jpg")
    catalog = Catalog(Paths(home).database)
    blue = catalog.photo_id_for_path(str(photos / "blue.jpg"))
    assert blue is not None
    store.save(catalog.engine, [store.TextRow(blue, "unlikely", model_id=1)])
    catalog.close()
    assert "does not look like it holds text" in said("blue.jpg") and '"ocr": "all"' in said("blue.jpg")
