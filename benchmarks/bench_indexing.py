"""Indexing throughput on CPU (or GPU): decode-only, model-only and end-to-end photos/s.

    python benchmarks/bench_indexing.py [--source hymenoptera|tiny-imagenet|synthetic-12mp] [--limit N]
                                        [--model vit-b-32-metaclip] [--workers N] [--batch N] [--device auto]

The model has random weights (same architecture, same speed, no download). End-to-end is the real
pipeline (`Library.index`: decode pool, model worker, catalog writer) into a temporary catalog.
Target: end-to-end >= 85% of min(decode-only, model-only), i.e. decoding and the model overlap fully.
On a CPU the two stages share the cores, so the script also prints the ratio to the shared-core bound
1/(1/decode + 1/model), which is what full overlap can reach when neither stage has cores of its own.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import SHARED_DATA, indexing_rate, random_weights_spec
from PIL import Image

from photosift.core.catalog import Catalog
from photosift.core.imageio import PHOTO_EXTENSIONS
from photosift.core.indexer import decode_ahead, default_decode_workers
from photosift.core.library import CPU_BATCH, GPU_BATCH, Library
from photosift.core.models.encoder import Encoder, select_device
from photosift.core.settings import Paths, Settings

SYNTHETIC_COUNT = 48  # 12-megapixel JPEGs are ~3-5 MB each; 48 gives a stable rate in under a minute


def synthetic_12mp(folder: Path, count: int) -> list[Path]:
    """Camera-sized JPEGs (4000x3000) with texture, so the decoder does real work."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:3000, 0:4000]
    paths = []
    for i in range(count):
        path = folder / f"synthetic-{i:03}.jpg"
        if not path.exists():
            base = ((xs * (i + 1) // 37 + ys // 23) % 256).astype(np.uint8)
            noise = rng.integers(0, 40, (3000, 4000, 3), dtype=np.uint8)
            Image.fromarray(np.dstack([base, base[::-1], base[:, ::-1]]) + noise).save(path, quality=90)
        paths.append(path)
    return paths


def photo_list(source: str, limit: int, scratch: Path) -> tuple[Path, list[Path]]:
    if source == "synthetic-12mp":
        folder = scratch / "synthetic-12mp"
        return folder, synthetic_12mp(folder, min(limit, SYNTHETIC_COUNT))
    folder = SHARED_DATA / source
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_EXTENSIONS)
    return folder, files[:limit]


def decode_only(encoder: Encoder, photos: list[Path], workers: int, lookahead: int) -> float:
    start = time.perf_counter()
    for _ in decode_ahead([(i, str(p)) for i, p in enumerate(photos)], encoder, workers, lookahead):
        pass
    return len(photos) / (time.perf_counter() - start)


def model_only(encoder: Encoder, count: int, batch: int) -> float:
    size = encoder.spec.image_size
    pixels = np.random.default_rng(0).standard_normal((batch, 3, size, size)).astype(np.float32)
    encoder.encode_images(pixels)  # warm-up: the first full batch pays one-off allocation costs
    count = max(count, 4 * batch)  # enough batches for a stable rate even on a small photo set
    start = time.perf_counter()
    done = 0
    while done < count:
        encoder.encode_images(pixels[: min(batch, count - done)])
        done += min(batch, count - done)
    return count / (time.perf_counter() - start)


def end_to_end(paths: Paths, settings: Settings, encoder: Encoder, folder: Path, photos: list[Path]) -> float:
    return indexing_rate(Library(paths, settings, Catalog(paths.database), encoder.spec, encoder), folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", default="hymenoptera", choices=["hymenoptera", "tiny-imagenet-val", "synthetic-12mp"]
    )
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--model", default="vit-b-32-metaclip")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="photosift-bench-") as tmp:
        scratch = Path(os.environ.get("PHOTOSIFT_BENCH_CACHE", tmp))
        paths = Paths(Path(tmp) / "home")
        paths.ensure()
        device = select_device(args.device)
        spec = random_weights_spec(args.model, paths)
        encoder = Encoder(spec, paths, device)
        encoder.load()
        workers = args.workers or default_decode_workers(device)
        batch = args.batch or (CPU_BATCH if device == "cpu" else GPU_BATCH)
        folder, photos = photo_list(args.source, args.limit, scratch)
        if args.source != "synthetic-12mp" and len(photos) < len(list(folder.rglob("*.*"))):
            folder = Path(tmp) / "subset"
            folder.mkdir()
            for i, p in enumerate(photos):
                os.symlink(p, folder / f"{i:05}{p.suffix}")
        decode = decode_only(encoder, photos, workers, batch * 2)
        model = model_only(encoder, len(photos), batch)
        e2e = end_to_end(paths, Settings(decode_workers=workers, batch_size=batch), encoder, folder, photos)
    print(f"model {spec.name} ({spec.architecture}, {spec.image_size}px) on {device}")
    print(f"{len(photos)} photos from {args.source}")
    print(f"workers {workers}, batch {batch}")
    print(f"decode-only   {decode:8.1f} photos/s")
    print(f"model-only    {model:8.1f} photos/s")
    print(f"end-to-end    {e2e:8.1f} photos/s")
    print(f"end-to-end / min(decode, model) = {e2e / min(decode, model):.2f}  (target >= 0.85)")
    # On a CPU both stages compete for the same cores, so full overlap is bounded by their combined cost.
    shared = 1 / (1 / decode + 1 / model)
    print(f"end-to-end / shared-core bound 1/(1/decode + 1/model) = {e2e / shared:.2f}")


if __name__ == "__main__":
    main()
