"""What a fine-tuning photo costs against an indexing photo: the ratio the wizard's time estimates use.

    python benchmarks/bench_train_cost.py [--model vit-b-32-metaclip] [--device cpu] [--batch 8]

Times forward passes in inference mode (what indexing and evaluation do; captions too) and stage (a) training steps
(forward, ArcMargin loss, backward, AdamW) on random pixels with random weights of the same architecture,
with the trainer's patch dropout, with and without gradient checkpointing. Prints photos a second for
each and the ratios; `app/gui/finetune/estimates.py` quotes the numbers it takes from here.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import open_clip
import torch
from _common import random_weights_spec

from core.models.build import build_model
from core.models.spec import ModelSpec
from core.settings import Paths
from training.losses import ArcMarginLoss
from training.towers import prepare_image_tower

WARMUP = 1  # batches run before timing: the first pays for allocation and kernel selection


def rate(step: Callable[[], None], batch: int, repeats: int) -> float:
    for _ in range(WARMUP):
        step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return batch * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vit-b-32-metaclip")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    torch.manual_seed(0)
    spec = random_weights_spec(args.model, Paths.default())
    model = build_model(spec).to(args.device)
    pixels = torch.randn(args.batch, 3, spec.image_size, spec.image_size, device=args.device)

    model.eval()

    def infer() -> None:
        with torch.inference_mode():
            model.encode_image(pixels)

    inference = rate(infer, args.batch, args.repeats)
    print(f"{spec.name} on {args.device}, batch {args.batch}: inference {inference:.2f} photos/s")
    tokens = open_clip.get_tokenizer(spec.architecture)(["a photo of a dog on a beach."] * args.batch).to(args.device)

    def encode_texts() -> None:
        with torch.inference_mode():
            model.encode_text(tokens)

    texts = rate(encode_texts, args.batch, args.repeats)
    print(f"  caption encoding {texts:.2f} captions/s, {inference / texts:.2f}x the cost of an inference photo")
    for checkpointing in (False, True):
        tricks, training = training_rate(spec, pixels, checkpointing, args.repeats)
        print(
            f"  training ({', '.join(tricks)}): {training:.2f} photos/s, {inference / training:.2f}x an inference photo"
        )


def training_rate(spec: ModelSpec, pixels: torch.Tensor, checkpointing: bool, repeats: int) -> tuple[list[str], float]:
    """Photos a second of stage (a) steps (ArcMargin over 10 classes, AdamW) with the trainer's tricks."""
    model = build_model(spec).to(pixels.device)
    tricks = prepare_image_tower(model, 0.33, checkpointing)
    arc = ArcMarginLoss(spec.embed_dim, 10, 30.0, 0.1).to(pixels.device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad] + list(arc.parameters()), lr=1e-6)
    labels = torch.arange(len(pixels), device=pixels.device) % 10
    model.train()

    def step() -> None:
        loss = arc(model.encode_image(pixels), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return tricks, rate(step, len(pixels), repeats)


if __name__ == "__main__":
    main()
