"""What the int8 CPU runtime changes in what a *trained* model finds: the same labelled photos embedded by
the fp32 export and by the int8 image tower (`cpu_runtime` "int8", core/models/onnx_int8.py).

    python benchmarks/bench_int8_quality.py SPEC [--source tiny-imagenet-val]

SPEC is a model spec file with trained weights on this computer: no model hub is reachable here, so the
reproduction's base (benchmarks/reproduce_mcip.py caches it as base-*/base.json) is the trained model at
hand; bench_onnx.py measures the same on random weights of the architectures users run. Prints top-10
neighbour agreement (each photo a query, itself left out), embedding cosines, and the evaluation's mAP,
k-NN and zero-shot top-1 for both.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _common import SHARED_DATA
from bench_onnx import TOP_K, top_k_agreement

from photosift.core.evaluation.datasets import load_folder_dataset
from photosift.core.evaluation.runner import embed_images, evaluate
from photosift.core.models.encoder import Encoder
from photosift.core.models.spec import load_spec
from photosift.core.progress import no_progress
from photosift.core.settings import Paths


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("--source", default="tiny-imagenet-val", help="a folder-per-class set under shared/data")
    args = parser.parse_args()
    spec = load_spec(args.spec)
    dataset = load_folder_dataset(SHARED_DATA / args.source)
    with tempfile.TemporaryDirectory(prefix="photosift-bench-int8-") as tmp:
        paths = Paths(Path(tmp))
        encoders = {runtime: Encoder(spec, paths, "cpu", runtime=runtime) for runtime in ("auto", "int8")}
        vectors = {}
        for runtime, encoder in encoders.items():
            vectors[runtime] = embed_images(encoder, dataset.paths, no_progress, None, 2, 64).vectors
            report = evaluate(encoder, dataset, workers=2, batch_size=64)
            zero_shot = f"{100 * report.zero_shot_top1:.2f}" if report.zero_shot_top1 is not None else "-"
            name = "fp32" if runtime == "auto" else "int8"
            print(
                f"{name}: mAP {100 * report.map:.2f}, k-NN {100 * report.knn_accuracy:.2f}, zero-shot top-1"
                f" {zero_shot} ({report.n_images} photos, {report.n_classes} classes)",
                flush=True,
            )
    fp32, int8 = vectors["auto"], vectors["int8"]
    cosines = (fp32 * int8).sum(axis=1)
    print(
        f"int8 vs fp32, {spec.name} on {len(fp32)} photos of {args.source}: top-{TOP_K} agreement"
        f" {top_k_agreement(fp32, int8):.3f}, embedding cosine min {cosines.min():.4f} mean {cosines.mean():.4f}"
        f" ({np.mean(cosines < 0.99) * 100:.1f}% below 0.99)"
    )


if __name__ == "__main__":
    main()
