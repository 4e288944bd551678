"""Optimiser and learning-rate schedule shared by both stages: AdamW, cosine per step, no warm-up."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn


def cosine_factor(step: int, total: int, base_lr: float, min_lr: float) -> float:
    """The multiplier that takes `base_lr` down to `min_lr` along a half cosine over `total` steps."""
    if base_lr <= 0:
        return 1.0
    progress = min(step, total) / max(total, 1)
    floor = min(min_lr, base_lr) / base_lr
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def cosine_schedule(
    optimizer: torch.optim.Optimizer, total_steps: int, min_lr: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Each parameter group follows its own cosine from its learning rate down to `min_lr`."""
    lambdas: list[Callable[[int], float]] = [
        functools.partial(cosine_factor, total=total_steps, base_lr=float(group["lr"]), min_lr=min_lr)
        for group in optimizer.param_groups
    ]
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambdas)


def decay_split(params: Sequence[nn.Parameter], weight_decay: float, lr: float) -> list[dict[str, object]]:
    """Parameter groups with weight decay on matrices only (biases, norms and scales are not decayed)."""
    matrices = [p for p in params if p.ndim >= 2]
    others = [p for p in params if p.ndim < 2]
    return [
        {"params": matrices, "weight_decay": weight_decay, "lr": lr},
        {"params": others, "weight_decay": 0.0, "lr": lr},
    ]
