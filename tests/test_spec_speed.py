"""The optional `indexing_speed` field of model specs: parsed, validated, round-tripped, and left out of
the key, since it describes hardware rather than the embeddings."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import TEST_MODELS

from photosift.core.errors import ModelError
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import dump_spec, load_spec
from photosift.core.settings import Paths


def tiny_with(tmp_path: Path, **fields: object) -> Path:
    raw = json.loads((TEST_MODELS / "tiny.json").read_text(encoding="utf-8"))
    raw |= {"open_clip_config": str(TEST_MODELS / "tiny-arch.json"), **fields}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_speed_is_read_per_device_kind_and_absent_kinds_are_unmeasured(tmp_path: Path) -> None:
    spec = load_spec(tiny_with(tmp_path, indexing_speed={"cpu": 19, "cuda": 850.5}))
    assert spec.indexing_speed == (("cuda", 850.5), ("cpu", 19.0))  # DEVICE_KINDS order, whatever the file's
    assert spec.speed_on("cpu") == 19.0 and spec.speed_on("mps") is None
    assert load_spec(TEST_MODELS / "tiny.json").speed_on("cpu") is None


def test_speed_round_trips_and_does_not_change_the_key(tmp_path: Path) -> None:
    spec = load_spec(tiny_with(tmp_path, indexing_speed={"cpu": 19}))
    target = tmp_path / "copy" / "tiny.json"
    dump_spec(spec, target)
    assert load_spec(target) == replace(spec, path=target)
    assert spec.key == replace(spec, indexing_speed=()).key


@pytest.mark.parametrize(
    ("speed", "said"),
    [
        ({"tpu": 3}, "'indexing_speed' may hold only cuda, mps, cpu, not 'tpu'"),
        ({"cpu": 0}, "'indexing_speed.cpu' must be a positive number"),
        ({"cpu": "fast"}, "'indexing_speed.cpu' must be a positive number"),
        ({"cpu": True}, "'indexing_speed.cpu' must be a positive number"),
        ([19], "'indexing_speed' must be of type dict"),
    ],
)
def test_a_bad_speed_names_the_field(tmp_path: Path, speed: object, said: str) -> None:
    with pytest.raises(ModelError, match="invalid") as caught:
        load_spec(tiny_with(tmp_path, indexing_speed=speed))
    assert said in str(caught.value)


def test_builtin_speeds_are_measurements_only(tmp_path: Path) -> None:
    specs = {spec.name: spec for spec in ModelRegistry(Paths(tmp_path)).specs()}
    # End to end on a quiet 2-core CPU, onnxruntime (README, Models: bench_indexing.py on 398 photos)
    assert specs["vit-b-32-metaclip"].indexing_speed == (("cpu", 42.0),)
    assert specs["vit-b-32-siglip2-256"].indexing_speed == (("cpu", 33.0),)
    assert specs["vit-b-16-siglip2"].indexing_speed == (("cpu", 11.0),)
    assert specs["mcip-siglip-so400m-384"].indexing_speed == ()  # never measured: no guess
