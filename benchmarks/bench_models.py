"""Image-tower throughput of candidate CPU models (random weights: speed does not depend on them).

    python benchmarks/bench_models.py [--threads 2] [--batch 16] [--text-batches 256,32] [MODEL ...]

Prints photos/s per open_clip architecture at its native resolution; used to pick the CPU default
(at least 10 photos/s on a 2-core CPU). With --text-batches, also the text tower's texts/s at each
batch size (random token ids of the full context length), which chose core.evaluation.prompts.TEXT_BATCH.
"""

from __future__ import annotations

import argparse
import time

import open_clip
import torch

CANDIDATES = ["ViT-B-32-quickgelu", "ViT-B-32-256", "MobileCLIP2-S0", "MobileCLIP-S2", "MobileCLIP2-S2", "ViT-B-16"]


def throughput(name: str, batch: int, repeats: int) -> tuple[int, float]:
    model = open_clip.create_model(name, pretrained=None).eval()
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    x = torch.randn(batch, 3, size, size)
    with torch.inference_mode():
        model.encode_image(x[:2])
        start = time.perf_counter()
        for _ in range(repeats):
            model.encode_image(x)
        return size, batch * repeats / (time.perf_counter() - start)


def text_throughput(name: str, batch: int, total: int = 512) -> float:
    model = open_clip.create_model(name, pretrained=None).eval()
    tokens = torch.randint(1, model.vocab_size, (total, model.context_length))
    with torch.inference_mode():
        model.encode_text(tokens[:batch])
        start = time.perf_counter()
        for i in range(0, total, batch):
            model.encode_text(tokens[i : i + batch])
        return total / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=CANDIDATES)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--text-batches", default="", help="comma-separated text batch sizes to time")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}")
    for name in args.models:
        size, rate = throughput(name, args.batch, args.repeats)
        print(f"{name:<24} {size:>4}px  {rate:7.1f} photos/s")
        for text_batch in [int(b) for b in args.text_batches.split(",") if b]:
            print(f"{'':<24} text batch {text_batch:>4}: {text_throughput(name, text_batch):7.1f} texts/s")


if __name__ == "__main__":
    main()
