"""Text in photos with the real rapidocr models: the pass after indexing (gated, cancellable, resumable),
the `text:` filter, the blend of recognised text into plain queries, and the stored text itself.
Images are a handful of small renders, so the real models cost a few seconds in all."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder, make_photo
from PIL import Image, ImageDraw, ImageFont
from test_library import fake_spec, open_library

from photosift.core.catalog import Catalog
from photosift.core.errors import Cancelled, QueryError, UserError
from photosift.core.library import Library
from photosift.core.ocr import store
from photosift.core.ocr.blend import TEXT_BONUS
from photosift.core.ocr.engine import THREADS, TextEngine
from photosift.core.ocr.gate import OTHER_PROMPTS, TEXT_PROMPTS, GatePrompts
from photosift.core.ocr.reader import OcrReport
from photosift.core.progress import CancelToken
from photosift.core.settings import Paths, Settings

pytest.importorskip("rapidocr_onnxruntime")


def make_sign(path: Path, words: str, background: tuple[int, int, int] = (200, 40, 40)) -> Path:
    """A small photo with `words` written large in black on one colour (a shop sign, say)."""
    image = Image.new("RGB", (320, 240), background)
    ImageDraw.Draw(image).text((14, 96), words, fill=(0, 0, 0), font=ImageFont.load_default(size=40))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=92)
    return path


@pytest.fixture(scope="module")
def engine() -> TextEngine:
    """One engine for the module's libraries: loading the OCR models takes a second or two each time."""
    return TextEngine()


@pytest.fixture
def signs(home: Path, tmp_path: Path, engine: TextEngine) -> tuple[Library, dict[str, int]]:
    """An indexed library (every photo read: ocr = all) of a sign and a plain red photo."""
    folder = tmp_path / "photos"
    make_sign(folder / "sign.jpg", "BLUE HARBOUR")
    make_photo(folder / "red.jpg", "red")
    library = open_library(home, settings=Settings(ocr="all"))
    library.text.engine = engine
    library.add_folder(folder)
    library.scan()
    library.index()
    ids = {Path(path).stem: library.catalog.photo_id_for_path(str(folder / path)) for path in ("sign.jpg", "red.jpg")}
    return library, {name: photo_id for name, photo_id in ids.items() if photo_id is not None}


def test_a_cancelled_pass_keeps_nothing_half_done_and_the_next_one_reads_the_text(
    signs: tuple[Library, dict[str, int]],
) -> None:
    library, ids = signs
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled) as stopped:
        library.text.read_pending(cancel=cancel)
    assert isinstance(stopped.value.partial, OcrReport) and stopped.value.partial.read == 0
    assert library.text.pending() == 2 and library.text.text_of(ids["sign"]) is None

    report = library.text.read_pending()

    assert (report.read, report.with_text, report.failed) == (2, 1, 0)
    assert "HARBOUR" in (library.text.text_of(ids["sign"]) or "").upper()
    assert library.text.text_of(ids["red"]) == ""  # read, and nothing found
    assert library.text.pending() == 0 and library.text.read_pending().read == 0  # resuming has nothing left


def test_text_filter_finds_words_anywhere_in_the_text_ignoring_case(signs: tuple[Library, dict[str, int]]) -> None:
    library, ids = signs
    library.text.read_pending()

    def found(query: str) -> set[int]:
        return {hit.photo_id for hit in library.search(query).hits}

    assert found('text:"blue harbour"') == {ids["sign"]}
    assert found("text:harb") == {ids["sign"]}  # a part of a word, as OCR may join words
    assert found("text:harbour text:lighthouse") == set()  # every text: must hold
    assert found("red text:harbour") == {ids["sign"]}
    with pytest.raises(QueryError, match="words to find"):
        library.search('text:"!!"')


def test_a_plain_query_raises_photos_whose_text_holds_its_words_by_the_bonus(
    signs: tuple[Library, dict[str, int]],
) -> None:
    library, ids = signs
    before = {hit.photo_id: hit.score for hit in library.search("blue").hits}
    library.text.read_pending()

    hits = library.search("blue").hits

    after = {hit.photo_id: hit.score for hit in hits}
    assert after[ids["sign"]] == pytest.approx((before[ids["sign"]] or 0) + TEXT_BONUS, abs=1e-4)
    assert after[ids["red"]] == pytest.approx(before[ids["red"]] or 0, abs=1e-6)  # no text: unchanged
    assert [hit.photo_id for hit in hits] == sorted(after, key=lambda i: -(after[i] or 0))


class PromptEncoder(FakeEncoder):
    """The fake model, but the gate's text prompts point at the red axis and its other prompts at blue."""

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        out = super().encode_texts(texts)
        for row, text in enumerate(texts):
            if text in TEXT_PROMPTS or text in OTHER_PROMPTS:
                out[row] = 0.0
                out[row, 0 if text in TEXT_PROMPTS else 2] = 1.0
        return out


def test_the_gate_reads_photos_like_text_prompts_and_all_reads_the_rest_later(
    home: Path, tmp_path: Path, engine: TextEngine
) -> None:
    make_photo(tmp_path / "photos" / "red.jpg", "red")
    make_photo(tmp_path / "photos" / "blue.jpg", "blue")
    library = open_library(home, PromptEncoder(), Settings(ocr="likely"))
    library.text.engine = engine
    library.add_folder(tmp_path / "photos")
    library.scan()
    library.index()

    report = library.text.read_pending()

    assert (report.read, report.unlikely) == (1, 1)  # red looks like the text prompts, blue does not
    assert library.text.pending() == 0
    everything = open_library(home, PromptEncoder(), Settings(ocr="all"))
    everything.text.engine = engine
    assert everything.text.pending() == 1  # the blue photo the gate left out
    assert everything.text.read_pending().read == 1
    assert open_library(home, settings=Settings(ocr="off")).text.read_pending().read == 0


def test_gate_prompts_compare_the_best_text_prompt_with_the_best_other_one() -> None:
    gate = GatePrompts(PromptEncoder().encode_texts)
    photos = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0.6, 0, 0.8, 0], [0.7, 0, 0.7, 0]], dtype=np.float32)
    assert gate.likely_text(photos).tolist() == [True, False, False, True]


def test_an_unknown_ocr_setting_is_refused_in_a_sentence(home: Path) -> None:
    with pytest.raises(UserError, match="ocr setting"):
        open_library(home, settings=Settings(ocr="sometimes"))


def test_the_engine_keeps_opencvs_own_threads_to_its_thread_count(engine: TextEngine) -> None:
    """OpenCV (rapidocr's resizes) would start one thread a core beside onnxruntime's and the decode pool."""
    import cv2

    engine.read(Image.new("RGB", (64, 48), "white"))

    assert cv2.getNumThreads() == THREADS


def test_a_photo_that_could_not_be_read_is_tried_again_once_its_file_changes(
    signs: tuple[Library, dict[str, int]], tmp_path: Path
) -> None:
    library, ids = signs
    library.text.read_pending()
    store.save(library.catalog.engine, [store.TextRow(ids["sign"], "failed")])  # say the file was unreadable
    assert library.text.pending() == 0  # not retried while nothing changed

    sign = tmp_path / "photos" / "sign.jpg"
    later = sign.stat().st_mtime + 60
    os.utime(sign, (later, later))  # modified since (same content: the scan keeps the photo)
    library.scan()

    assert library.text.pending() == 1 and library.text.read_pending().with_text == 1
    store.save(library.catalog.engine, [store.TextRow(ids["red"], "failed")])
    assert library.text.retry_failed() == 1 and library.text.pending() == 1  # --retry-failed: a new decoder


def test_photos_the_gate_left_out_are_gated_again_by_another_model(
    home: Path, tmp_path: Path, engine: TextEngine
) -> None:
    make_photo(tmp_path / "photos" / "red.jpg", "red")
    make_photo(tmp_path / "photos" / "blue.jpg", "blue")
    library = open_library(home, PromptEncoder(), Settings(ocr="likely"))
    library.text.engine = engine
    library.add_folder(tmp_path / "photos")
    library.scan()
    library.index()
    assert library.text.read_pending().unlikely == 1 and library.text.pending() == 0

    other = Library(
        Paths(home), Settings(ocr="likely"), Catalog(Paths(home).database), fake_spec("other"), PromptEncoder()
    )
    other.text.engine = engine
    other.index()  # the switch embeds every photo with the new model

    assert other.text.pending() == 1  # the blue photo, left out by the first model's gate only
    assert other.text.read_pending().unlikely == 1 and other.text.pending() == 0
    assert library.text.pending() == 1  # switching back gates it once more: no pixels, one matrix product
