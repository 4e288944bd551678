"""Exporting a model's image and text towers to ONNX, once, for onnxruntime on the CPU.

onnxruntime runs CLIP towers about twice as fast as torch on a CPU (bench_onnx.py). Where an export is
kept and how it is found is `onnx_cache`'s; this module makes one, with torch. An export is used only
after it reproduced torch's embeddings on a few photos and texts (cosine >= `MIN_COSINE`); the model's
tokenizer is saved beside it where it converts (`text_tokens`), so using the export needs no torch.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from photosift.core.atomic import atomic_folder
from photosift.core.errors import EnvironmentFault
from photosift.core.models.build import Tokenizer
from photosift.core.models.onnx_cache import OnnxExport, OnnxExportError, cache_key, mark_verified
from photosift.core.models.onnx_check import check_pixels, run_once, worst_cosine
from photosift.core.models.spec import ModelSpec
from photosift.core.models.text_tokens import save_tokenizer
from photosift.core.settings import Paths

OPSET = 17  # the newest opset the TorchScript exporter covers fully for these towers
# fp32 ONNX reproduces torch to ~1e-7; 0.999 still admits fused-kernel rounding but not a wrong graph
# (a dropped layer or a misread weight gives cosines far below it).
MIN_COSINE = 0.999
VERIFY_TEXTS = ("a photo", "two bees on a yellow flower in the garden", "x", "a dog running on a beach at sunset")

logger = logging.getLogger(__name__)


def export_towers(
    model: torch.nn.Module, spec: ModelSpec, tokenizer: Tokenizer, paths: Paths, weights: Path | None
) -> OnnxExport:
    """Export `model`'s towers, check them against torch, and keep them under `paths.models/onnx`.

    The files are written to a temporary folder that is renamed into place only when verified, so an
    interrupted or failed export never leaves something `cached_export` would use. Older exports of
    the same spec (previous weights) are removed.

    Raises:
        OnnxExportError: the exporter failed, or the export's embeddings differ from torch's.
    """
    root = paths.models / "onnx"
    final = root / cache_key(spec, weights)
    try:
        with atomic_folder(final, f"the onnxruntime export of {spec.title}") as scratch:
            _export(model, spec, tokenizer, scratch)
            min_cosine = _verify(model, spec, tokenizer, OnnxExport(scratch, 0.0))
            if not save_tokenizer(tokenizer, scratch):
                logger.info("%s: its tokenizer has no torch-free form; searches tokenize with open_clip", spec.title)
            mark_verified(scratch, min_cosine)
            for old in root.glob(f"{spec.name}-*"):  # the scratch folder's name starts with a dot
                shutil.rmtree(old, ignore_errors=True)
    except EnvironmentFault as fault:  # disk full, or another process renamed its export into place first
        raise OnnxExportError(
            f"The onnxruntime export of the {spec.called} could not be written; it runs on torch instead.",
            details=f"{fault} {fault.details}",
        ) from fault
    return OnnxExport(final, min_cosine)


class ImageTower(torch.nn.Module):
    """A model's `encode_image` as a module of its own, for the exporter (the benchmarks export rclip's towers
    with it too)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels)  # type: ignore[no-any-return, operator]


class TextTower(ImageTower):
    """A model's `encode_text` as a module of its own, for the exporter."""

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(tokens)  # type: ignore[no-any-return, operator]


def _export(model: torch.nn.Module, spec: ModelSpec, tokenizer: Tokenizer, folder: Path) -> None:
    size = spec.image_size
    towers = (
        (ImageTower(model), torch.zeros(2, 3, size, size), "pixels", folder / "image.onnx"),
        (TextTower(model), tokenizer(list(VERIFY_TEXTS[:2])), "tokens", folder / "text.onnx"),
    )
    with exportable(), _fused_self_attention(model):
        for tower, example, name, path in towers:
            try:
                torch.onnx.export(
                    tower,
                    (example,),
                    str(path),
                    dynamo=False,
                    input_names=[name],
                    output_names=["features"],
                    dynamic_axes={name: {0: "batch"}, "features": {0: "batch"}},
                    opset_version=OPSET,  # the fused operator's domain, com.microsoft, gets version 1 unasked
                )
            except Exception as exc:  # the exporter raises anything from TypeError to its own error types
                raise OnnxExportError(
                    f"The {spec.called} could not be exported for onnxruntime; it runs on torch instead.",
                    details=f"{type(exc).__name__}: {exc}",
                ) from exc
            _weights_beside_graph(path)


def _weights_beside_graph(path: Path) -> None:
    """Move a tower's weights out of its graph into `<tower>.onnx.data` beside it.

    onnxruntime maps such a file where it parses weights held inside the graph's protobuf: the ViT-B-32
    text tower's session opened in 0.10 s against 0.27 s (five each, one process), on the path of every
    `photosift search` (0.9 s as a whole command) and of the window's first search.
    """
    import onnx  # what torch's exporter writes with; imported only when exporting

    graph = onnx.load(str(path))
    onnx.save_model(graph, str(path), save_as_external_data=True, location=f"{path.name}.data", size_threshold=1024)


@contextmanager
def _fused_self_attention(model: torch.nn.Module) -> Iterator[None]:
    """Export the model's self-attention layers as onnxruntime's fused `Attention` operator.

    Traced, `nn.MultiheadAttention` becomes some 140 operators a layer (shape arithmetic, reshapes,
    transposes, two batched products and a softmax); the fused operator does the same sums in one kernel
    with the input projection folded in, and a text tower's causal mask as its `unidirectional` flag.
    ViT-B-32-256's image tower ran 3 % faster for it (median ratio of 9 paired rounds, batches of 16, two
    threads), which is what indexing on a CPU waits on, and its text tower 9 % (a query, or a batch of tag
    prompts). Layers it cannot express (cross-attention, a padding mask, sequence-first layout, separate
    projection weights) export as before; the modules are put back afterwards, so the export is still
    checked against the plain layers.
    """
    swapped = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if isinstance(child, torch.nn.MultiheadAttention) and _fusable(child)
    ]
    for parent, name, attention in swapped:
        setattr(parent, name, _FusedSelfAttention(attention))
    try:
        yield
    finally:
        for parent, name, attention in swapped:
            setattr(parent, name, attention)


def _fusable(attention: torch.nn.MultiheadAttention) -> bool:
    return (
        attention.batch_first
        and attention._qkv_same_embed_dim
        and attention.in_proj_bias is not None
        and attention.bias_k is None
        and not attention.add_zero_attn
    )


class _FusedSelfAttention(torch.nn.Module):
    """Stands in for an `nn.MultiheadAttention` while it is exported; self-attention with no mask or a
    causal one becomes one `Attention` operator, anything else runs the layer it wraps."""

    def __init__(self, attention: torch.nn.MultiheadAttention) -> None:
        super().__init__()
        self.attention = attention

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        need_weights: bool = True,
        attn_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        layer = self.attention
        causal = attn_mask is not None and _is_causal(attn_mask)
        if key is not query or value is not query or need_weights or (attn_mask is not None and not causal):
            return layer(query, key, value, need_weights=need_weights, attn_mask=attn_mask)  # type: ignore[no-any-return]
        weights = layer.in_proj_weight.t()  # (embed, 3 x embed): the operator's layout for q | k | v
        mixed = _AttentionOperator.apply(query, weights, layer.in_proj_bias, layer.num_heads, causal)
        return layer.out_proj(mixed), None


def _is_causal(mask: torch.Tensor) -> bool:
    """Whether `mask` is the causal mask of CLIP's text towers (each token sees itself and those before it),
    additive (-inf above the diagonal) or boolean (True above it). A constant when traced: a buffer's."""
    if mask.dim() != 2 or mask.shape[0] != mask.shape[1]:
        return False
    above = torch.ones(mask.shape, dtype=torch.bool).triu(1)
    if mask.dtype == torch.bool:
        return bool(torch.equal(mask, above))
    return bool(torch.equal(mask, torch.zeros_like(mask).masked_fill(above, float("-inf"))))


class _AttentionOperator(torch.autograd.Function):
    """Batch-first self-attention with its input projection, causal or not; traced as onnxruntime's
    `com.microsoft` `Attention` operator (default scale, 1 / sqrt(head size), as `nn.MultiheadAttention` uses)."""

    @staticmethod
    def forward(
        ctx: object, x: torch.Tensor, weights: torch.Tensor, bias: torch.Tensor, heads: int, causal: bool
    ) -> torch.Tensor:
        batch, tokens, width = x.shape
        q, k, v = (
            part.view(batch, tokens, heads, width // heads).transpose(1, 2)
            for part in (x @ weights + bias).chunk(3, dim=-1)
        )
        mixed = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return mixed.transpose(1, 2).reshape(batch, tokens, width)

    @staticmethod
    def symbolic(g: Any, x: Any, weights: Any, bias: Any, heads: int, causal: bool) -> Any:
        mixed = g.op("com.microsoft::Attention", x, weights, bias, num_heads_i=heads, unidirectional_i=int(causal))
        mixed.setType(x.type())  # the operator keeps the input's shape and type; the exporter cannot know
        return mixed


@contextmanager
def exportable() -> Iterator[None]:
    """Trace the plain attention path and keep the exporter's notices out of the user's log (the benchmarks
    export rclip's towers under it too).

    torch's fused attention fast path (`_native_multi_head_attention`) has no ONNX symbolic, and the
    TorchScript exporter is deprecated in favour of the torch.export one, which needs onnxscript and
    takes several times longer on these towers; it warns on every call.
    """
    enabled = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(enabled)


def _verify(model: torch.nn.Module, spec: ModelSpec, tokenizer: Tokenizer, export: OnnxExport) -> float:
    """The worst cosine between torch's and onnxruntime's embeddings; raises below `MIN_COSINE`."""
    pixels = check_pixels(spec)
    tokens = tokenizer(list(VERIFY_TEXTS))
    with torch.inference_mode():
        pairs = (
            (model.encode_image(torch.from_numpy(pixels)), run_once(export.image, pixels)),  # type: ignore[operator]
            (model.encode_text(tokens), run_once(export.text, tokens.numpy())),  # type: ignore[operator]
        )
    worst = min(worst_cosine(expected.numpy(), got) for expected, got in pairs)
    if not worst >= MIN_COSINE:  # also catches NaN
        raise OnnxExportError(
            f"The onnxruntime export of the {spec.called} does not reproduce torch; it runs on torch instead.",
            details=f"worst cosine {worst:.6f} against torch, {MIN_COSINE} required",
        )
    return worst
