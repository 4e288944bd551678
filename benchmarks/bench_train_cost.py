"""What a fine-tuning photo costs against an indexing photo: the ratios the wizard's time estimates use.

    python benchmarks/bench_train_cost.py [--model vit-b-32-metaclip] [--device cpu] [--batch 8] [--rounds 8]

Times forward passes in inference mode (what indexing, evaluation and caption mining do), caption encoding,
and stage (a) training steps (forward, ArcMargin loss, backward, AdamW) with the trainer's patch dropout,
with and without gradient checkpointing, on random pixels and random weights of the same architecture.
Each round times one inference batch right before the batch it is compared with, and the median ratio
over the rounds is printed, so a machine whose load drifts (other jobs on a shared CPU) still gives a
fair ratio. `app/gui/finetune/estimates.py` quotes the numbers it takes from here.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import open_clip
import torch
from _common import random_weights_spec

from photosift.core.models.build import build_model
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths
from photosift.training.losses import ArcMarginLoss
from photosift.training.towers import prepare_image_tower

Step = Callable[[], None]


def seconds(step: Step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def median_ratio(work: Step, reference: Step, rounds: int) -> tuple[float, float]:
    """(median seconds of `work`, median of its time over `reference`'s time in the same round)."""
    work(), reference()  # warm-up: allocation and kernel selection
    pairs = [(seconds(reference), seconds(work)) for _ in range(rounds)]
    return statistics.median(w for _, w in pairs), statistics.median(w / r for r, w in pairs)


def training_step(spec: ModelSpec, pixels: torch.Tensor, checkpointing: bool) -> tuple[list[str], Step]:
    """A stage (a) step (ArcMargin over 10 classes, AdamW) with the trainer's tricks."""
    model = build_model(spec, patch_dropout=0.33).to(pixels.device)  # as the trainer builds it
    tricks = prepare_image_tower(model, checkpointing)
    arc = ArcMarginLoss(spec.embed_dim, 10, 30.0, 0.1).to(pixels.device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad] + list(arc.parameters()), lr=1e-6)
    labels = torch.arange(len(pixels), device=pixels.device) % 10
    model.train()

    def step() -> None:
        loss = arc(model.encode_image(pixels), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return tricks, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vit-b-32-metaclip")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    torch.manual_seed(0)
    spec = random_weights_spec(args.model, Paths.default())
    model = build_model(spec).to(args.device).eval()
    pixels = torch.randn(args.batch, 3, spec.image_size, spec.image_size, device=args.device)
    tokens = open_clip.get_tokenizer(spec.architecture)(["a photo of a dog on a beach."] * args.batch).to(args.device)

    def infer() -> None:
        with torch.inference_mode():
            model.encode_image(pixels)

    def encode_texts() -> None:
        with torch.inference_mode():
            model.encode_text(tokens)

    took, _ = median_ratio(infer, infer, args.rounds)
    print(f"{spec.name} on {args.device}, batch {args.batch}: inference {args.batch / took:.2f} photos/s (median)")
    took, ratio = median_ratio(encode_texts, infer, args.rounds)
    print(f"  caption encoding: {args.batch / took:.2f} captions/s, {ratio:.2f}x the cost of an inference photo")
    for checkpointing in (False, True):
        tricks, step = training_step(spec, pixels, checkpointing)
        took, ratio = median_ratio(step, infer, args.rounds)
        print(f"  training ({', '.join(tricks)}): {args.batch / took:.2f} photos/s, {ratio:.2f}x an inference photo")


if __name__ == "__main__":
    main()
