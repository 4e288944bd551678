"""rclip beside Photosift, on the same architecture and random weights (for the benchmarks, not the app).

rclip 3 runs open_clip's ViT-B-32-256 on onnxruntime and downloads its towers on first use. Here our own
export of that architecture is laid where rclip looks first, so it runs offline on the same weights.
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


def rclip_home(image_onnx: Path, text_onnx: Path, datadir: Path) -> None:
    """Lay our exported towers where rclip looks before downloading, with the input name rclip feeds."""
    import onnx
    import open_clip

    models = datadir / RCLIP_SUBDIR
    models.mkdir(parents=True)
    for source, name in ((image_onnx, "visual.onnx"), (text_onnx, "textual.onnx")):
        graph = onnx.load(str(source))
        old = graph.graph.input[0].name
        graph.graph.input[0].name = "input"
        for node in graph.graph.node:
            node.input[:] = ["input" if x == old else x for x in node.input]
        onnx.save(graph, str(models / name))
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
