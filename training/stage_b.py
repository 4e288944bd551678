"""Stage (b): re-alignment (Re-A). The image tower is locked and its embeddings of the training photos
are computed once; the text tower's last block, final norm, projection and the logit scale learn to
match them again with CLIP's InfoNCE loss (../shared/MCIP.md). It repairs the text alignment that
ArcMargin-only fine-tuning (gpr-ft) costs."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from photosift.training.config import TrainConfig
from photosift.training.losses import info_nce_loss
from photosift.training.runtime import Runtime
from photosift.training.schedule import cosine_schedule, decay_split
from photosift.training.towers import freeze, logit_scale, text_tail_parameters

LOG_EVERY = 10


def caption_pairs(per_item: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(image row, caption index) for every caption of every photo."""
    rows = np.concatenate([np.full(len(c), row) for row, c in enumerate(per_item)]) if per_item else np.zeros(0)
    captions = np.concatenate(list(per_item)) if per_item else np.zeros(0)
    return rows.astype(np.int64), captions.astype(np.int64)


def realign(
    model: nn.Module,
    image_embeddings: torch.Tensor,
    pairs: tuple[np.ndarray, np.ndarray],
    tokens: torch.Tensor,
    config: TrainConfig,
    runtime: Runtime,
) -> int:
    """Train the text tower's tail on (cached image embedding, caption tokens) pairs; returns steps run.

    Args:
        image_embeddings: (N, D) embeddings of the training photos by the locked image tower.
        pairs: image rows and caption indices (see `caption_pairs`).
        tokens: (T, context) token ids of every caption in the bank.
    """
    rows, captions = pairs
    if len(rows) < 2:
        runtime.report("warning", message="Too few photo-caption pairs to re-align the text tower; skipped.")
        return 0
    freeze(model)
    tail = text_tail_parameters(model)
    for param in tail:
        param.requires_grad_(True)
    optimizer = torch.optim.AdamW(
        decay_split(tail, config.realign_weight_decay, config.realign_lr), betas=(0.9, 0.98), eps=1e-6
    )
    batch = min(config.realign_batch_size, len(rows))
    steps_per_epoch = max(1, len(rows) // batch)
    total = steps_per_epoch * config.realign_epochs
    scheduler = cosine_schedule(optimizer, total, config.min_lr)
    generator = torch.Generator().manual_seed(config.seed)
    device, start = runtime.device, time.perf_counter()
    model.train()
    for step in range(1, total + 1):
        chosen = torch.randperm(len(rows), generator=generator)[:batch].numpy()
        images = image_embeddings[torch.as_tensor(rows[chosen])].to(device)
        with runtime.autocast():
            texts = model.encode_text(tokens[torch.as_tensor(captions[chosen])].to(device))  # type: ignore[operator]
            loss = info_nce_loss(images, texts, logit_scale(model))
        optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        torch.nn.utils.clip_grad_norm_(tail, config.grad_clip)
        optimizer.step()
        scheduler.step()
        if step % LOG_EVERY == 0 or step == total:
            rate = step / max(time.perf_counter() - start, 1e-9)
            runtime.report(
                "step",
                stage="b",
                step=step,
                total_steps=total,
                loss_nce=round(float(loss.detach()), 5),
                lr=optimizer.param_groups[0]["lr"],
                eta_s=round((total - step) / rate, 1),
            )
        if runtime.stop.cancelled:
            break
    model.eval()
    freeze(model)
    return step
