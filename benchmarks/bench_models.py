"""Image-tower throughput of candidate CPU models (random weights: speed does not depend on them).

    python benchmarks/bench_models.py [--threads 2] [--batch 16] [--text-batches 256,32] [--interleave N]
                                      [MODEL ...]

Prints photos/s per open_clip architecture at its native resolution; used to pick the CPU default
(at least 10 photos/s on a 2-core CPU). On a shared machine whose load comes and goes, --interleave N
times one batch of each model in turn for N rounds and prints each model's median rate and its ratio to
the first model's, so all of them see the same load: the ratios hold where the absolute rates do not.
With --text-batches, also the text tower's texts/s at each batch size (random token ids of the full
context length), which chose core.evaluation.prompts.TEXT_BATCH.
"""

from __future__ import annotations

import argparse
import statistics
import time

import open_clip
import torch

CANDIDATES = [
    "ViT-B-32-quickgelu",
    "ViT-B-32-SigLIP2-256",
    "ViT-B-16-SigLIP2",
    "ViT-B-32-256",
    "MobileCLIP2-S0",
    "MobileCLIP-S2",
    "MobileCLIP2-S2",
    "ViT-B-16",
]


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


def interleaved(names: list[str], batch: int, rounds: int) -> None:
    models = [open_clip.create_model(name, pretrained=None).eval() for name in names]
    inputs = []
    for model in models:
        size = model.visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else size
        inputs.append(torch.randn(batch, 3, size, size))
    rates: list[list[float]] = [[] for _ in names]
    with torch.inference_mode():
        for model, x in zip(models, inputs, strict=True):
            model.encode_image(x[:2])  # warm-up
        for _ in range(rounds):
            for i, (model, x) in enumerate(zip(models, inputs, strict=True)):
                start = time.perf_counter()
                model.encode_image(x)
                rates[i].append(batch / (time.perf_counter() - start))
    first = statistics.median(rates[0])
    for name, x, rate in zip(names, inputs, rates, strict=True):
        median = statistics.median(rate)
        print(f"{name:<26} {x.shape[-1]:>4}px  median {median:7.2f} photos/s  ratio to first {median / first:.2f}")


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
    parser.add_argument("--interleave", type=int, default=0, help="rounds of one batch per model in turn")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}")
    if args.interleave:
        interleaved(args.models, args.batch, args.interleave)
        return
    for name in args.models:
        size, rate = throughput(name, args.batch, args.repeats)
        print(f"{name:<24} {size:>4}px  {rate:7.1f} photos/s")
        for text_batch in [int(b) for b in args.text_batches.split(",") if b]:
            print(f"{'':<24} text batch {text_batch:>4}: {text_throughput(name, text_batch):7.1f} texts/s")


if __name__ == "__main__":
    main()
