"""rclip beside Photosift, on the same architecture and random weights (for the benchmarks, not the app).

rclip 3 runs open_clip's ViT-B-32-256 on onnxruntime and downloads its towers on first use. Here towers of
that architecture, with random weights and exported as rclip exports the ones it ships, are laid where
rclip looks first, so it runs offline at the speed it runs for its users.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import time
from pathlib import Path

from photosift.core.models.spec import ModelSpec

RCLIP_ARCHITECTURE, RCLIP_SIZE = "ViT-B-32-256", 256  # what rclip 3 runs (its model_download.MODEL_SUBDIR)
RCLIP_SUBDIR = "ViT-B-32-256-datacomp_s34b_b86k"


def rclip_spec(spec: ModelSpec) -> ModelSpec:
    """`spec` turned into rclip's architecture and input size (keeping where its weights come from)."""
    return dataclasses.replace(
        spec, name="vit-b-32-256", architecture=RCLIP_ARCHITECTURE, image_size=RCLIP_SIZE, resize=RCLIP_SIZE
    )


def rclip_home(spec: ModelSpec, datadir: Path) -> None:
    """Lay towers of `spec`'s architecture where rclip looks before downloading, made as rclip makes the
    ones it ships (its scripts/convert_model.py: a plain TorchScript export at opset 18, input "input"; it
    exports `model.visual`, which is what `encode_image` runs).

    Not our own export: that one fuses self-attention into one onnxruntime operator (onnx_export.py),
    which rclip's towers do not, and the comparison is with rclip as its users run it."""
    import open_clip
    import torch

    from photosift.core.models.build import build_model
    from photosift.core.models.onnx_export import ImageTower, TextTower, exportable

    model = build_model(spec).eval()
    models = datadir / RCLIP_SUBDIR
    models.mkdir(parents=True)
    towers = (
        (ImageTower(model), torch.randn(1, 3, spec.image_size, spec.image_size), "visual.onnx"),
        (TextTower(model), torch.zeros(1, 77, dtype=torch.long), "textual.onnx"),
    )
    # rclip's script exports weights that require gradients, which keeps torch's fused attention fast path
    # (it has no ONNX form) out of the trace; ours are frozen, so `exportable` turns the path off.
    with exportable():
        for tower, example, name in towers:
            torch.onnx.export(
                tower,
                (example,),
                str(models / name),
                input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                opset_version=18,
                dynamo=False,
            )
    vocab = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
    (datadir / "tokenizer").mkdir()
    shutil.copy(vocab, datadir / "tokenizer" / vocab.name)


def rclip_environment(datadir: Path) -> dict[str, str]:
    """The environment an `rclip` process needs to use `datadir` and never reach for the network."""
    return {**os.environ, "RCLIP_DATADIR": str(datadir), "HF_HUB_OFFLINE": "1"}


def rclip_seconds(rclip: str, datadir: Path, folder: Path) -> float:
    """Wall time of one whole `rclip` command that indexes `folder` from scratch and answers a query."""
    for db in datadir.glob("db.sqlite3*"):
        db.unlink()
    start = time.perf_counter()
    subprocess.run(
        [rclip, "-f", "-t", "1", "a photo"], cwd=folder, env=rclip_environment(datadir), check=True, capture_output=True
    )
    return time.perf_counter() - start
