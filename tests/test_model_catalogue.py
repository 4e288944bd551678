"""The model catalogue: every built-in spec says what it is in plain words, its licence, languages, size and
measured speed; user specs without those fields still load and show "not stated"."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from conftest import TEST_MODELS

from photosift.core.models.card import NOT_MEASURED, NOT_STATED, model_card
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import dump_spec, load_spec
from photosift.core.settings import Paths

SPDX_IDS = {"Apache-2.0", "MIT", "CC-BY-NC-4.0", "CC-BY-4.0", "BSD-3-Clause"}  # licences the built-ins may use


def test_every_builtin_model_has_catalogue_texts(tmp_path: Path) -> None:
    for spec in ModelRegistry(Paths(tmp_path)).specs():
        card = model_card(spec)
        assert card.title and card.title == spec.summary, spec.name
        assert spec.details and spec.languages, spec.name
        assert card.licence in SPDX_IDS | {NOT_STATED}, spec.name
        assert card.download_mb > 0 and card.embed_dim == spec.embed_dim, spec.name


def test_card_reads_plain_words_and_says_what_was_not_measured(tmp_path: Path) -> None:
    spec = ModelRegistry(Paths(tmp_path)).resolve("vit-b-32-metaclip")
    card = model_card(spec)
    assert (card.licence, card.languages) == ("CC-BY-NC-4.0", "English")
    assert card.cpu_speed == "19 photos/s" and card.gpu_speed == NOT_MEASURED
    assert card.download_size == "605 MB"
    assert json.loads(json.dumps(card.as_json()))["gpu_photos_per_s"] is None


def test_a_spec_without_catalogue_texts_still_loads_and_says_not_stated() -> None:
    spec = load_spec(TEST_MODELS / "tiny.json")
    card = model_card(spec)
    assert card.title == "Tiny test model"  # the title stands in for a missing summary
    assert card.details == "tiny-arch, its own weights"
    assert (card.licence, card.languages, card.download_size) == (NOT_STATED, NOT_STATED, "none")


def test_catalogue_texts_round_trip_and_leave_the_key_alone(tmp_path: Path) -> None:
    raw = json.loads((TEST_MODELS / "tiny.json").read_text(encoding="utf-8"))
    raw |= {"open_clip_config": str(TEST_MODELS / "tiny-arch.json"), "licence": "MIT", "languages": "Japanese"}
    source = tmp_path / "tiny.json"
    source.write_text(json.dumps(raw), encoding="utf-8")
    spec = load_spec(source)
    target = tmp_path / "copy" / "tiny.json"
    dump_spec(spec, target)
    assert load_spec(target) == replace(spec, path=target)
    assert spec.key == replace(spec, licence="", languages="", summary="x", details="y").key


def test_download_sizes_read_as_people_write_them() -> None:
    card = model_card(replace(load_spec(TEST_MODELS / "tiny.json"), download_mb=1530))
    assert card.download_size == "1.5 GB"
    assert re.fullmatch(r"\d+ photos/s|not measured", card.cpu_speed)
