"""The int8 image tower: the `cpu_runtime` "int8" choice, made from a verified export by onnxruntime's
dynamic quantisation (int8 weights; activations quantised on the fly) and checked against it.

On a CPU with VNNI instructions (Intel since Cascade Lake and Ice Lake, AMD since Zen 4) it runs the tower about
twice as fast as fp32, at a small cost in accuracy (README, "CPU runtime"); without VNNI the gain is a
few per cent. Only the image tower: indexing is where the time goes, and a query's one text pass keeps
full precision. The result lives in the export's folder (`int8/`), written whole or not at all; a
quantisation that fails its check is recorded there too, so it is not retried at every start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

from photosift.core.atomic import atomic_folder, remove_stale_temps, write_text
from photosift.core.errors import EnvironmentFault
from photosift.core.models.onnx_cache import DONE_FILE, OnnxExport, mark_verified, verified_cosine
from photosift.core.models.onnx_check import check_pixels, run_once, worst_cosine
from photosift.core.models.spec import ModelSpec

FOLDER = "int8"
REFUSED_FILE = "int8-refused.json"
# int8 moves an embedding a little: worst cosine with fp32 0.9993 over the 10,100 tiny-imagenet-val photos
# (the reproduction's trained base, bench_int8_quality.py) on a CPU with VNNI, 0.984 on real photos on an
# AVX2 CPU without it (README, "CPU runtime"). A broken quantisation (a layer left unscaled, a wrong zero
# point) lands far below; 0.98 tells the two apart.
MIN_COSINE = 0.98

logger = logging.getLogger(__name__)


def int8_image_tower(export: OnnxExport, spec: ModelSpec) -> Path | None:
    """The int8 image tower of `export`, quantised and checked on first use; None where its check failed
    (now or before: the fp32 tower runs then) or it could not be written."""
    folder = export.folder / FOLDER
    if verified_cosine(folder) is not None:
        return folder / "image.onnx"
    if (export.folder / REFUSED_FILE).is_file():
        return None
    remove_stale_temps(export.folder)  # what a process killed mid-quantisation left
    if (folder / DONE_FILE).is_file():  # finished once, but written to since its check: made again
        shutil.rmtree(folder, ignore_errors=True)
    try:
        with atomic_folder(folder, f"the int8 image tower of {spec.title}") as scratch:
            worst = _quantise(export, spec, scratch / "image.onnx")
            if not worst >= MIN_COSINE:  # also catches NaN
                raise _Refused(worst)  # leaves the block by an exception: the scratch folder is not kept
            mark_verified(scratch, worst)
    except _Refused as refused:
        logger.warning(
            "%s: the int8 image tower differs too much from fp32 (worst cosine %.4f, %s required); photos are"
            " embedded in full precision",
            spec.title,
            refused.worst,
            MIN_COSINE,
        )
        with contextlib.suppress(EnvironmentFault):  # unwritten, the check runs again next start: slower, not wrong
            write_text(export.folder / REFUSED_FILE, json.dumps({"min_cosine": refused.worst}), "a refused int8 tower")
        return None
    except EnvironmentFault as fault:  # disk full, or another process's tower renamed into place first
        if verified_cosine(folder) is not None:
            return folder / "image.onnx"
        logger.warning("%s: the int8 image tower could not be written (%s); fp32 runs", spec.title, fault)
        return None
    return folder / "image.onnx"


class _Refused(Exception):
    """The quantised tower failed its check; `worst` is its worst cosine against fp32."""

    def __init__(self, worst: float) -> None:
        super().__init__(worst)
        self.worst = worst


def _quantise(export: OnnxExport, spec: ModelSpec, target: Path) -> float:
    """Write the int8 tower to `target`; the worst cosine between its embeddings and the fp32 tower's."""
    from onnxruntime.quantization import QuantType, quantize_dynamic  # imports onnx: only when quantising

    # Signed int8 weights: unsigned ran at 1.5x fp32 where signed ran at 1.9x (VNNI CPU, ViT-B-32-256).
    with _without_preprocessing_advice():
        quantize_dynamic(export.image, target, weight_type=QuantType.QInt8)
    pixels = check_pixels(spec)
    return worst_cosine(run_once(export.image, pixels), run_once(target, pixels))


@contextlib.contextmanager
def _without_preprocessing_advice() -> Iterator[None]:
    """Keep the quantiser's advice to pre-process the graph out of the user's log: it logs it on the root
    logger at every call, and its pre-processing (symbolic shape inference) fails on open_clip's towers."""

    def advice(record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)
