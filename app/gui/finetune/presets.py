"""The wizard's effort presets: complete training configs for a personal collection on this machine.

The trainer's defaults are the MCIP paper's (training/config.py): a tower learning rate of 1e-6 over
millions of photos, i.e. tens of thousands of steps. A personal collection of a few hundred to a few
thousand labelled photos gives tens of steps an epoch, so the presets take ten times larger steps for the
tower, and a hundred times larger for the ArcMargin class proxies, which start random and must find their
classes within the first epoch. Early stopping keeps the best epoch on the held-out photos, so a longer
preset costs time but does not overfit the result.
"""

from __future__ import annotations

from typing import Literal

from photosift.training.config import SMALL_COLLECTION, Method, TrainConfig

Preset = Literal["quick", "standard", "thorough"]
PRESETS: tuple[Preset, ...] = ("quick", "standard", "thorough")

TITLES: dict[Preset, str] = {"quick": "Quick", "standard": "Standard", "thorough": "Thorough"}
SUMMARIES: dict[Preset, str] = {
    "quick": "2 passes over your photos: a first look at whether fine-tuning helps",
    "standard": "5 passes, stopping early once the held-out score stops improving",
    "thorough": "10 passes at a gentler pace, for large or hard collections",
}
_EFFORT: dict[Preset, dict[str, float | int]] = {
    "quick": {"epochs": 2, "early_stopping_patience": 1, "lr_tower": 1e-5},
    "standard": {"epochs": 5, "early_stopping_patience": 2, "lr_tower": 1e-5},
    "thorough": {"epochs": 10, "early_stopping_patience": 3, "lr_tower": 5e-6},
}
LR_PROXIES = float(SMALL_COLLECTION["lr_proxies"])
VAL_FRACTION = 0.2  # a fifth of each class held out: enough to score classes of a dozen photos


def preset_config(
    preset: Preset, *, data: str, model: str, method: Method, name: str, output: str, device_kind: str
) -> TrainConfig:
    """The full config of a preset on `device_kind` ("cuda", "mps" or "cpu"). The batch size is left automatic
    (fitted to GPU memory; 32 on a CPU).

    On a CPU gradient checkpointing is turned off: it saves GPU memory by computing the forward pass
    twice, and main memory is rarely what limits a CPU run, time is.
    """
    effort = _EFFORT[preset]
    return TrainConfig(
        data=data,
        model=model,
        method=method,
        name=name,
        output=output,
        epochs=int(effort["epochs"]),
        early_stopping_patience=int(effort["early_stopping_patience"]),
        lr_tower=float(effort["lr_tower"]),
        lr_proxies=LR_PROXIES,
        batch_size=0,
        val_fraction=VAL_FRACTION,
        device=device_kind,  # the device the estimates are for, also when the settings force the CPU
        grad_checkpointing=device_kind != "cpu",
    )


def split_sizes(class_sizes: list[int], val_fraction: float) -> tuple[int, int]:
    """(training, held-out) photo counts, by the trainer's rule (training/data.py `split_by_image`): a
    fraction of each class, at least one and never all; classes below two photos are left out."""
    held_out = 0
    kept = [n for n in class_sizes if n >= 2]
    for n in kept:
        held_out += 0 if val_fraction == 0 else min(max(round(n * val_fraction), 1), n - 1)
    return sum(kept) - held_out, held_out
