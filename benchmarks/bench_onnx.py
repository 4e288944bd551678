"""CPU indexing on onnxruntime against torch, and against rclip where it is installed: one paired run,
median of 3 rounds.

    python benchmarks/bench_onnx.py [--source hymenoptera|tiny-imagenet-val] [--limit 398] [--rounds 3]
                                    [--model vit-b-32-metaclip] [--model-photos 96] [--workers N]
                                    [--int8] [--rclip /path/to/venv/bin/rclip]

Each round measures, back to back on the same photos: torch model-only, onnxruntime model-only, Photosift
end to end on onnxruntime (the folder added, scanned and indexed into a fresh catalog, as `photosift
index` does), with --int8 the same two for the `cpu_runtime` "int8" choice (the product's int8 image
tower, core/models/onnx_int8.py), and rclip's whole `rclip` command (with --rclip). The model has random
weights: same architecture, same speed, no download; PHOTOSIFT_BENCH_CACHE=DIR keeps the export between
runs. rclip 3 runs open_clip's ViT-B-32-256, so with --rclip both tools run that architecture: rclip's
towers are exported here as rclip's own conversion script makes them (plain, where ours fuse
self-attention) and laid where rclip looks for its downloads, so it needs no network. rclip's start-up
(imports, session load) is measured on a one-photo folder (median of 3 runs) and subtracted from its time.
End to end leaves out the tag prompts' text-tower pass that follows a model's first indexing run (once per
model; the photos are searchable before it).

Targets (issue 17): end-to-end >= 0.85 of the onnxruntime model-only rate, and >= 1.2x rclip's rate.
The host is shared: each round prints the CPU steal and load, and ratios come from the same round.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _common import indexing_rate, linked_folder, photo_files, random_weights_spec
from _rclip import rclip_home, rclip_seconds, rclip_spec

from photosift.core.catalog import Catalog
from photosift.core.imageio import load_image
from photosift.core.indexer import default_decode_workers
from photosift.core.library import CPU_BATCH, Library
from photosift.core.models.encoder import Encoder
from photosift.core.models.onnx_runtime import model_threads
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths, Settings

TOP_K = 10

Encode = Callable[[np.ndarray], np.ndarray]


def cpu_counters() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs from /proc/stat; (0, 0) where there is none."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def preprocessed(encoder: Encoder, files: list[Path]) -> np.ndarray:
    return np.stack([encoder.preprocess(load_image(p, min_side=encoder.min_side)[0]) for p in files])


def model_rate(encode: Encode, pixels: np.ndarray, batch: int) -> float:
    encode(pixels[:batch])  # warm-up: the first full batch pays one-off allocation costs
    start = time.perf_counter()
    for i in range(0, len(pixels), batch):
        encode(pixels[i : i + batch])
    return len(pixels) / (time.perf_counter() - start)


def embed_all(encode: Encode, pixels: np.ndarray, batch: int) -> np.ndarray:
    vectors = np.concatenate([encode(pixels[i : i + batch]) for i in range(0, len(pixels), batch)])
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def end_to_end(root: Path, models: Path, spec: ModelSpec, encoder: Encoder, folder: Path, workers: int) -> float:
    """Photos/s of scanning and indexing `folder` into a fresh catalog (the export cache is shared through
    `models`)."""
    paths = Paths(root)
    paths.ensure()
    shutil.rmtree(paths.models)
    os.symlink(models, paths.models)
    settings = Settings(decode_workers=workers, batch_size=CPU_BATCH)
    library = Library(paths, settings, Catalog(paths.database), spec, encoder)
    # After the photos are searchable, a model's first run puts thousands of tag prompts through the text
    # tower (once per model, minutes on a loaded CPU): not indexing, and it would repeat in every round.
    library.tags.tagger.catch_up = lambda *args, **kwargs: 0  # type: ignore[method-assign]
    return indexing_rate(library, folder)


def top_k_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Mean share of each photo's top-10 neighbours (itself left out) that both embeddings agree on."""

    def neighbours(v: np.ndarray) -> np.ndarray:
        scores = v @ v.T
        np.fill_diagonal(scores, -np.inf)
        return np.argsort(-scores, axis=1)[:, :TOP_K]

    na, nb = neighbours(a), neighbours(b)
    return float(np.mean([len(set(x) & set(y)) / TOP_K for x, y in zip(na, nb, strict=True)]))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", default="hymenoptera", choices=["hymenoptera", "tiny-imagenet-val"])
    parser.add_argument("--limit", type=int, default=398)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="vit-b-32-metaclip")
    parser.add_argument("--model-photos", type=int, default=96, help="photos per model-only measurement")
    parser.add_argument("--workers", type=int, default=0, help="decode threads (0: the library's default)")
    parser.add_argument("--int8", action="store_true", help="also measure int8 dynamic quantisation")
    parser.add_argument("--rclip", help="an installed `rclip` command to run beside Photosift")
    return parser.parse_args()


@dataclasses.dataclass
class Bench:
    """What every round runs on: the same photos, stages and encoders."""

    args: argparse.Namespace
    scratch: Path
    paths: Paths
    spec: ModelSpec
    encoder: Encoder
    int8_encoder: Encoder | None
    stages: dict[str, Encode]
    pixels: np.ndarray
    folder: Path
    workers: int
    rclip_start: float = 0.0


def run_round(bench: Bench, r: int) -> dict[str, float]:
    steal0, total0 = cpu_counters()
    row = {f"{name} model-only": model_rate(encode, bench.pixels, CPU_BATCH) for name, encode in bench.stages.items()}
    row["photosift end-to-end"] = end_to_end(
        bench.scratch / f"round{r}", bench.paths.models, bench.spec, bench.encoder, bench.folder, bench.workers
    )
    if bench.int8_encoder is not None:
        row["photosift int8 end-to-end"] = end_to_end(
            bench.scratch / f"round{r}-int8",
            bench.paths.models,
            bench.spec,
            bench.int8_encoder,
            bench.folder,
            bench.workers,
        )
    if bench.args.rclip:
        seconds = rclip_seconds(bench.args.rclip, bench.scratch / "rclip", bench.folder)
        # The one-photo run holds rclip's start-up and one photo: what is left is the other photos' time.
        row["rclip"] = (len(list(bench.folder.iterdir())) - 1) / (seconds - bench.rclip_start)
    steal1, total1 = cpu_counters()
    row["steal %"] = 100 * (steal1 - steal0) / max(1, total1 - total0)
    row["load"] = os.getloadavg()[0]
    print(f"round {r + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)
    return row


def setup(args: argparse.Namespace, scratch: Path) -> Bench:
    paths = Paths(scratch / "home")
    if cache := os.environ.get("PHOTOSIFT_BENCH_CACHE"):  # keep the export between runs (minutes on a busy CPU)
        paths.root.mkdir()
        (Path(cache) / "models").mkdir(parents=True, exist_ok=True)
        os.symlink(Path(cache).resolve() / "models", paths.models)
    paths.ensure()
    spec = random_weights_spec(args.model, paths)
    if args.rclip:
        spec = rclip_spec(spec)
    encoder = Encoder(spec, paths, "cpu", runtime="auto")
    start = time.perf_counter()
    encoder.load()
    print(f"export and verification (once per model and weights): {time.perf_counter() - start:.0f} s")
    if encoder.runtime != "onnxruntime":
        raise SystemExit("the export failed: see the log")
    files = photo_files(args.source, args.limit)
    stages: dict[str, Encode] = {
        "torch": Encoder(spec, paths, "cpu", runtime="torch").encode_images,
        "onnxruntime": encoder.encode_images,
    }
    int8_encoder = None
    if args.int8:
        int8_encoder = Encoder(spec, paths, "cpu", runtime="int8")
        int8_encoder.load()  # quantises and checks the tower the first time
        if not int8_encoder._onnx or not int8_encoder._onnx.int8:  # a benchmark may look inside
            raise SystemExit("the int8 tower was refused: see the log")
        stages["int8"] = int8_encoder.encode_images
    bench = Bench(
        args,
        scratch,
        paths,
        spec,
        encoder,
        int8_encoder,
        stages,
        preprocessed(encoder, files[: args.model_photos]),
        linked_folder(scratch / "photos", files),
        args.workers or default_decode_workers("cpu"),
    )
    if args.rclip:
        rclip_home(spec, scratch / "rclip")
        one = linked_folder(scratch / "one", files[:1])
        # One run's start-up is noisy (2.5 s in one benchmark run, 1.2 s in the next), and it is subtracted
        # from every round's rclip time: the median of three steadies it.
        starts = [rclip_seconds(args.rclip, scratch / "rclip", one) for _ in range(3)]
        bench.rclip_start = statistics.median(starts)
        print(
            f"rclip start-up and one photo: {', '.join(f'{s:.2f}' for s in starts)} s; median subtracted from its times"
        )
    return bench


def print_int8(bench: Bench) -> None:
    """Top-10 agreement of int8 with fp32 over all the photos (each photo a query)."""
    pixels = preprocessed(bench.encoder, sorted(bench.folder.iterdir()))
    fp32 = embed_all(bench.stages["onnxruntime"], pixels, CPU_BATCH)
    int8 = embed_all(bench.stages["int8"], pixels, CPU_BATCH)
    cosines = (fp32 * int8).sum(axis=1)
    print(
        f"int8 vs fp32 on {len(pixels)} photos: top-{TOP_K} agreement {top_k_agreement(fp32, int8):.3f}, "
        f"embedding cosine min {cosines.min():.4f} mean {cosines.mean():.4f}"
    )


def print_summary(bench: Bench, rows: list[dict[str, float]]) -> None:
    median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    spec = bench.spec
    print(
        f"\nmodel {spec.architecture} {spec.image_size}px, random weights; {len(list(bench.folder.iterdir()))} "
        f"photos from {bench.args.source}; batch {CPU_BATCH}, decode workers {bench.workers}, "
        f"onnxruntime threads {model_threads()}; median of {len(rows)} rounds"
    )
    for key, value in median.items():
        print(f"  {key:28} {value:8.2f}")

    def ratio(a: str, b: str, target: float | None = None) -> str:
        """The median of the rounds' ratios, and with `target` whether it is met: judged on the unrounded
        median (a median of 1.195 prints as 1.20)."""
        per_round = [row[a] / row[b] for row in rows]
        median = statistics.median(per_round)
        verdict = "" if target is None else f"  (target >= {target}: {'met' if median >= target else 'MISSED'})"
        return f"{median:.3f} (rounds: {', '.join(f'{x:.2f}' for x in per_round)}){verdict}"

    print(f"onnxruntime / torch model-only:          {ratio('onnxruntime model-only', 'torch model-only')}")
    print(f"end-to-end / onnxruntime model-only:     {ratio('photosift end-to-end', 'onnxruntime model-only', 0.85)}")
    if "int8 model-only" in median:
        print(f"int8 / fp32 onnxruntime model-only:      {ratio('int8 model-only', 'onnxruntime model-only')}")
        print(f"int8 end-to-end / int8 model-only:       {ratio('photosift int8 end-to-end', 'int8 model-only')}")
    if "rclip" in median:
        print(f"end-to-end / rclip:                      {ratio('photosift end-to-end', 'rclip', 1.2)}")
    if "rclip" in median and "int8 model-only" in median:
        print(f"int8 end-to-end / rclip:                 {ratio('photosift int8 end-to-end', 'rclip')}")


def main() -> None:
    args = parse_args()
    print(f"host: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at start", flush=True)
    with tempfile.TemporaryDirectory(prefix="photosift-bench-onnx-") as tmp:
        bench = setup(args, Path(tmp))
        rows = [run_round(bench, r) for r in range(args.rounds)]
        if args.int8:
            print_int8(bench)
        print_summary(bench, rows)


if __name__ == "__main__":
    main()
