"""The onnxruntime CPU runtime on the tiny random-weight model: export, verification against torch,
the cache and its key, and the fall back to torch when the export fails."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from conftest import make_photo, with_tiny_export

from photosift.core.errors import UserError
from photosift.core.imageio import load_image
from photosift.core.models import build as build_module
from photosift.core.models import onnx_cache, onnx_export, onnx_int8
from photosift.core.models.build import build_model, load_tokenizer
from photosift.core.models.encoder import Encoder
from photosift.core.models.onnx_cache import OnnxExport, OnnxExportError, cache_key, cached_export
from photosift.core.models.onnx_export import export_towers
from photosift.core.models.onnx_runtime import open_towers
from photosift.core.models.spec import ModelSpec, load_spec
from photosift.core.settings import Paths

TINY = Path(__file__).resolve().parent / "models" / "tiny.json"
TEXTS = ["a red square", "something blue", "three bees"]


@pytest.fixture(scope="module")
def tiny() -> ModelSpec:
    return load_spec(TINY)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "home")


def with_cached_export(paths: Paths, exported: Path) -> Paths:
    """`paths` with the session's export of the tiny model (conftest's `tiny_export`) already made."""
    with_tiny_export(paths.models, exported)
    return paths


def photos(encoder: Encoder, folder: Path) -> np.ndarray:
    files = [make_photo(folder / f"{c}.png", c, (90 + 7 * i, 60)) for i, c in enumerate(("red", "green", "blue"))]
    return np.stack([encoder.preprocess(load_image(f, min_side=encoder.min_side)[0]) for f in files])


def export_tiny(spec: ModelSpec, paths: Paths, weights: Path | None = None) -> OnnxExport:
    return export_towers(build_model(spec), spec, load_tokenizer(spec, paths.models), paths, weights)


def test_the_export_embeds_as_torch_does(tiny: ModelSpec, paths: Paths, tmp_path: Path) -> None:
    onnx = Encoder(tiny, paths, "cpu", runtime="auto")
    torch_encoder = Encoder(tiny, paths, "cpu")
    batch = photos(onnx, tmp_path)
    got, expected = onnx.encode_images(batch), torch_encoder.encode_images(batch)
    assert onnx.runtime == "onnxruntime" and torch_encoder.runtime == "torch"
    assert np.allclose(got, expected, atol=1e-5)
    assert np.allclose(onnx.encode_texts(TEXTS), torch_encoder.encode_texts(TEXTS), atol=1e-5)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    export = cached_export(tiny, paths, None)
    assert export is not None and export.min_cosine >= onnx_export.MIN_COSINE
    for tower in (export.image, export.text):  # the weights sit beside each graph, for onnxruntime to map
        weights = tower.with_name(f"{tower.name}.data")
        assert weights.stat().st_size > 4 * tower.stat().st_size


def test_each_layers_self_attention_is_one_fused_operator(tiny: ModelSpec, tiny_export: Path) -> None:
    """What the tower files hold: one `Attention` node a layer (so the close embeddings above come from the
    fused operator), causal in the text tower and not in the image tower."""
    import onnx

    model = build_model(tiny)
    layers = {"image.onnx": len(model.visual.transformer.resblocks), "text.onnx": len(model.transformer.resblocks)}  # type: ignore[union-attr, arg-type]
    (folder,) = (tower.parent for tower in tiny_export.glob("*/image.onnx"))
    for tower, causal in (("image.onnx", 0), ("text.onnx", 1)):
        graph = onnx.load(str(folder / tower), load_external_data=False).graph
        fused = [node for node in graph.node if node.op_type == "Attention"]
        flags = {
            onnx.helper.get_attribute_value(a) for node in fused for a in node.attribute if a.name == "unidirectional"
        }
        assert len(fused) == layers[tower] > 0 and flags == {causal}, tower


def test_a_cached_export_tokenizes_without_open_clip(
    tiny: ModelSpec, paths: Paths, tiny_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tokenizer saved with the export serves the GUI's warm-up and every search: open_clip's is never
    built (building it imports torch and open_clip), and the texts embed as torch embeds them."""
    with_cached_export(paths, tiny_export)
    expected = Encoder(tiny, paths, "cpu").encode_texts(TEXTS)

    def no_open_clip(*args: object) -> None:
        raise AssertionError("open_clip's tokenizer was built")

    monkeypatch.setattr(build_module, "load_tokenizer", no_open_clip)
    warmed = Encoder(tiny, paths, "cpu", runtime="auto")
    warmed.prepare_bundled_tokenizer()
    assert warmed.has_tokenizer and not warmed.is_loaded
    assert np.allclose(warmed.encode_texts(TEXTS), expected, atol=1e-5)
    assert np.allclose(Encoder(tiny, paths, "cpu", runtime="auto").encode_texts(TEXTS), expected, atol=1e-5)


def test_a_cached_export_is_used_without_building_the_torch_model(
    tiny: ModelSpec, paths: Paths, tiny_export: Path
) -> None:
    with_cached_export(paths, tiny_export)

    def no_model() -> torch.nn.Module:
        raise AssertionError("the cached export should be used")

    towers = open_towers(tiny, paths, None, no_model, lambda: load_tokenizer(tiny, paths.models), threads=1)
    pixels = np.zeros((2, 3, tiny.image_size, tiny.image_size), dtype=np.float32)
    assert towers.encode_images(pixels).shape == (2, tiny.embed_dim)


def test_a_batch_of_photos_runs_as_parts_side_by_side(
    tiny: ModelSpec, paths: Paths, tiny_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two threads, a batch's halves run on two threads at once, each session on one thread; the
    features are those of the whole batch run at once, in order."""
    with_cached_export(paths, tiny_export)
    pixels = np.random.default_rng(0).standard_normal((5, 3, tiny.image_size, tiny.image_size)).astype(np.float32)
    whole = open_towers(tiny, paths, None, torch.nn.Module, lambda: load_tokenizer(tiny, paths.models), threads=1)
    expected = whole.encode_images(pixels)
    runs: list[tuple[str, int, int]] = []
    plain_run = onnxruntime.InferenceSession.run

    def recorded(session: onnxruntime.InferenceSession, names: list[str], feeds: dict[str, np.ndarray]) -> list:
        threads = session.get_session_options().intra_op_num_threads
        runs.append((threading.current_thread().name, len(next(iter(feeds.values()))), threads))
        return plain_run(session, names, feeds)

    monkeypatch.setattr(onnxruntime.InferenceSession, "run", recorded)
    halves = open_towers(tiny, paths, None, torch.nn.Module, lambda: load_tokenizer(tiny, paths.models), threads=2)
    assert np.allclose(halves.encode_images(pixels), expected, atol=1e-6)
    assert sorted(size for _, size, _ in runs) == [2, 3] and {threads for *_, threads in runs} == {1}
    assert len({name for name, *_ in runs}) == 2
    runs.clear()
    halves.encode_texts(np.asarray(load_tokenizer(tiny, paths.models)(TEXTS[:1]), dtype=np.int64))
    assert [threads for *_, threads in runs] == [2]  # a query runs on every thread


def test_an_export_missing_a_weights_file_is_made_again(tiny: ModelSpec, paths: Paths, tiny_export: Path) -> None:
    with_cached_export(paths, tiny_export)
    export = cached_export(tiny, paths, None)
    assert export is not None
    export.text.with_name("text.onnx.data").unlink()
    assert cached_export(tiny, paths, None) is None
    encoder = Encoder(tiny, paths, "cpu", runtime="auto")
    assert np.allclose(encoder.encode_texts(TEXTS), Encoder(tiny, paths, "cpu").encode_texts(TEXTS), atol=1e-5)
    assert encoder.runtime == "onnxruntime" and cached_export(tiny, paths, None) is not None


@pytest.mark.parametrize("damaged", ["text.onnx", "text.onnx.data", "image.onnx.data", "image.onnx.data in place"])
def test_a_damaged_export_is_made_again_at_its_first_use(
    tiny: ModelSpec, paths: Paths, tiny_export: Path, tmp_path: Path, damaged: str
) -> None:
    """A tower file cut short after the export was verified (a full disk, a crash while copying a data folder),
    or written over in place at the same size, which onnxruntime would load without a word: the search or
    indexing that opens it gets a fresh export instead of a parse error or wrong embeddings."""
    with_cached_export(paths, tiny_export)
    export = cached_export(tiny, paths, None)
    assert export is not None
    name = damaged.removesuffix(" in place")
    whole = (export.folder / name).read_bytes()
    half = len(whole) // 2
    cut = whole[:half] + bytes(len(whole) - half) if damaged.endswith("in place") else whole[:half]
    (export.folder / name).write_bytes(cut)
    torch_encoder = Encoder(tiny, paths, "cpu")
    encoder = Encoder(tiny, paths, "cpu", runtime="auto")
    batch = photos(encoder, tmp_path)
    texts, images = encoder.encode_texts(TEXTS), encoder.encode_images(batch)
    assert encoder.runtime == "onnxruntime"
    assert np.allclose(texts, torch_encoder.encode_texts(TEXTS), atol=1e-5)
    assert np.allclose(images, torch_encoder.encode_images(batch), atol=1e-5)
    remade = cached_export(tiny, paths, None)
    assert remade is not None and (remade.folder / name).read_bytes() != cut


def test_the_cache_key_changes_with_the_weights_content(tiny: ModelSpec, paths: Paths, tmp_path: Path) -> None:
    weights = tmp_path / "finetuned.pt"
    model = build_model(tiny)
    torch.save(model.state_dict(), weights)
    spec = replace(tiny, random_init=False, checkpoint=weights)
    before = cache_key(spec, weights)
    with torch.no_grad():
        next(model.parameters()).add_(0.5)
    torch.save(model.state_dict(), weights)  # retrained: same file name, new content
    assert cache_key(spec, weights) != before
    assert cache_key(spec, weights) == cache_key(spec, weights)
    assert cache_key(replace(spec, sha256="ab" * 32), weights) != cache_key(spec, weights)


def test_a_new_export_replaces_the_previous_weights_export(
    tiny: ModelSpec, paths: Paths, tmp_path: Path, tiny_export: Path
) -> None:
    first = cached_export(tiny, with_cached_export(paths, tiny_export), None)
    assert first is not None
    weights = tmp_path / "tiny.pt"
    torch.save(build_model(tiny).state_dict(), weights)
    second = export_tiny(replace(tiny, random_init=False, checkpoint=weights), paths, weights)
    assert second.folder != first.folder and second.image.exists()
    assert not first.folder.exists()
    assert [p.name for p in (paths.models / "onnx").iterdir()] == [second.folder.name]  # no scratch folder left


def test_a_failed_export_falls_back_to_torch(
    tiny: ModelSpec, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_export(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Exporting the operator 'aten::frobnicate' is not supported")

    monkeypatch.setattr(torch.onnx, "export", broken_export)
    encoder = Encoder(tiny, paths, "cpu", runtime="auto")
    batch = photos(encoder, tmp_path)
    with caplog.at_level(logging.WARNING):
        got = encoder.encode_images(batch)
    assert encoder.runtime == "torch"
    assert np.allclose(got, Encoder(tiny, paths, "cpu").encode_images(batch), atol=1e-6)
    assert "aten::frobnicate" in caplog.text
    assert cached_export(tiny, paths, None) is None
    assert list((paths.models / "onnx").iterdir()) == []


def test_an_export_that_does_not_reproduce_torch_is_refused(
    tiny: ModelSpec, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_export, "MIN_COSINE", 1.01)  # no export can pass: as if the graph were wrong
    with pytest.raises(OnnxExportError) as raised:
        export_tiny(tiny, paths)
    assert "worst cosine" in raised.value.details
    assert cached_export(tiny, paths, None) is None


def test_training_through_the_model_switches_the_encoder_to_torch(
    tiny: ModelSpec, paths: Paths, tmp_path: Path, tiny_export: Path
) -> None:
    encoder = Encoder(tiny, with_cached_export(paths, tiny_export), "cpu", runtime="auto")
    batch = photos(encoder, tmp_path)
    before = encoder.encode_images(batch)
    assert encoder.runtime == "onnxruntime"
    with torch.no_grad():
        for param in encoder.model.parameters():  # what the trainer does: weights change in place
            param.add_(0.05 * torch.randn_like(param))
    assert encoder.runtime == "torch"
    assert not np.allclose(encoder.encode_images(batch), before, atol=1e-3)


def test_the_app_runs_the_runtime_the_settings_choose(tiny: ModelSpec, paths: Paths) -> None:
    from photosift.app.main import model_provider

    assert model_provider(paths).make_encoder(tiny, "cpu").runtime == "onnxruntime"  # type: ignore[attr-defined]
    assert model_provider(paths, "torch").make_encoder(tiny, "cpu").runtime == "torch"  # type: ignore[attr-defined]
    assert model_provider(paths, "int8").make_encoder(tiny, "cpu").runtime == "onnxruntime"  # type: ignore[attr-defined]
    with pytest.raises(UserError, match="Unknown runtime"):
        Encoder(tiny, paths, "cpu", runtime="tensorflow")


def test_the_int8_runtime_embeds_photos_close_to_full_precision(
    tiny: ModelSpec, paths: Paths, tmp_path: Path, tiny_export: Path
) -> None:
    """The int8 image tower is made once from the export, checked against it, and kept; texts stay fp32."""
    with_cached_export(paths, tiny_export)
    fp32 = Encoder(tiny, paths, "cpu", runtime="auto")
    int8 = Encoder(tiny, paths, "cpu", runtime="int8")
    assert np.array_equal(int8.encode_texts(TEXTS), fp32.encode_texts(TEXTS))
    export = cached_export(tiny, paths, None)
    assert export is not None and not (export.folder / onnx_int8.FOLDER).exists()  # a search does not wait for it
    batch = photos(int8, tmp_path)
    got, expected = int8.encode_images(batch), fp32.encode_images(batch)
    assert int8.runtime == "onnxruntime"
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() >= onnx_int8.MIN_COSINE and not np.allclose(got, expected, atol=1e-6)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (export.folder / onnx_int8.FOLDER / onnx_cache.DONE_FILE).is_file()
    again = Encoder(tiny, paths, "cpu", runtime="int8")
    modified = (export.folder / onnx_int8.FOLDER / "image.onnx").stat().st_mtime_ns
    assert np.array_equal(again.encode_images(batch), got)  # the kept tower: not quantised again
    assert (export.folder / onnx_int8.FOLDER / "image.onnx").stat().st_mtime_ns == modified
    _zero_the_largest_weights(export.folder / onnx_int8.FOLDER / "image.onnx")  # loads, and embeds wrongly
    assert np.array_equal(Encoder(tiny, paths, "cpu", runtime="int8").encode_images(batch), got)  # made again


def _zero_the_largest_weights(graph: Path) -> None:
    """Write `graph` over with its largest weight tensor zeroed: a file onnxruntime opens without a word."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(graph))
    largest = max(model.graph.initializer, key=lambda tensor: int(np.prod(tensor.dims)))
    largest.CopyFrom(numpy_helper.from_array(np.zeros_like(numpy_helper.to_array(largest)), largest.name))
    onnx.save(model, str(graph))


def test_an_int8_tower_that_fails_its_check_is_refused_once_and_for_all(
    tiny: ModelSpec,
    paths: Paths,
    tmp_path: Path,
    tiny_export: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with_cached_export(paths, tiny_export)
    monkeypatch.setattr(onnx_int8, "MIN_COSINE", 1.01)  # no quantisation can pass: as if it were broken
    encoder = Encoder(tiny, paths, "cpu", runtime="int8")
    batch = photos(encoder, tmp_path)
    with caplog.at_level(logging.WARNING):
        got = encoder.encode_images(batch)
    assert np.array_equal(got, Encoder(tiny, paths, "cpu", runtime="auto").encode_images(batch))  # fp32 ran
    assert "differs too much from fp32" in caplog.text
    export = cached_export(tiny, paths, None)
    assert export is not None and (export.folder / onnx_int8.REFUSED_FILE).is_file()
    assert not (export.folder / onnx_int8.FOLDER).exists()
    assert [p.name for p in export.folder.iterdir() if p.name.startswith(".")] == []  # no scratch left

    def quantise_again(*args: object) -> float:
        raise AssertionError("a refused tower was quantised again")

    monkeypatch.setattr(onnx_int8, "MIN_COSINE", 0.98)
    monkeypatch.setattr(onnx_int8, "_quantise", quantise_again)
    assert np.array_equal(Encoder(tiny, paths, "cpu", runtime="int8").encode_images(batch), got)
