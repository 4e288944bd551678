"""Stage (b): re-alignment (Re-A). The image tower is locked and its embeddings of the training photos
are computed once; the text tower's last block, final norm, projection and the logit scale learn to
match them again with CLIP's InfoNCE loss (../shared/MCIP.md). It repairs the text alignment that
ArcMargin-only fine-tuning (gpr-ft) costs."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from photosift.training.config import TrainConfig
from photosift.training.losses import INFO_NCE_MAX_SCALE, info_nce_loss
from photosift.training.runtime import Runtime
from photosift.training.schedule import cosine_schedule, decay_split
from photosift.training.towers import freeze, logit_scale, text_tail_parameters

LOG_EVERY = 10


def caption_pairs(per_item: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(image row, caption index) for every caption of every photo."""
    rows = np.concatenate([np.full(len(c), row) for row, c in enumerate(per_item)]) if per_item else np.zeros(0)
    captions = np.concatenate(list(per_item)) if per_item else np.zeros(0)
    return rows.astype(np.int64), captions.astype(np.int64)


def false_negatives(rows: np.ndarray, captions: np.ndarray, per_item: Sequence[np.ndarray]) -> torch.Tensor:
    """(B, B) bool for a batch of pairs: caption j also belongs to the photo of pair i (the same caption
    string, or another caption of the same photo). InfoNCE must not push those apart (MCIP.md)."""
    return torch.from_numpy(np.stack([np.isin(captions, per_item[int(row)]) for row in rows]))


def realign_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """Unfreeze the text tower's tail (everything else frozen) and return its optimizer: AdamW (0.9, 0.98),
    eps 1e-6, weight decay on matrices only, not on gains, biases or the logit scale (the authors')."""
    freeze(model)
    tail = text_tail_parameters(model)
    for param in tail:
        param.requires_grad_(True)
    groups = decay_split(tail, config.realign_weight_decay, config.realign_lr)
    return torch.optim.AdamW(groups, betas=(0.9, 0.98), eps=1e-6)


def realign(
    model: nn.Module,
    image_embeddings: torch.Tensor,
    per_item: Sequence[np.ndarray],
    tokens: torch.Tensor,
    config: TrainConfig,
    runtime: Runtime,
) -> int:
    """Train the text tower's tail on (cached image embedding, caption tokens) pairs; returns steps run.

    As the authors do: AdamW with weight decay on matrices only (not on gains, biases or the logit
    scale), no gradient clipping, loss scaling when autocast runs in fp16, and the logit scale clamped
    to [0, ln 100] after every step.

    Args:
        image_embeddings: (N, D) embeddings of the training photos by the locked image tower.
        per_item: caption indices of each of the N photos.
        tokens: (T, context) token ids of every caption in the bank.
    """
    rows, captions = caption_pairs(per_item)
    if len(rows) < 2:
        runtime.report("warning", message="Too few photo-caption pairs to re-align the text tower; skipped.")
        return 0
    optimizer = realign_optimizer(model, config)
    scaler = runtime.grad_scaler()
    batch = min(config.realign_batch_size, len(rows))
    total = math.ceil(len(rows) / batch) * config.realign_epochs
    scheduler = cosine_schedule(optimizer, total, 0.0)  # the authors' stage (b) cosine ends at zero
    generator = torch.Generator().manual_seed(config.seed)
    scale, device, start = logit_scale(model), runtime.device, time.perf_counter()
    model.train()
    for step in range(1, total + 1):
        chosen = torch.randperm(len(rows), generator=generator)[:batch].numpy()
        images = image_embeddings[torch.as_tensor(rows[chosen])].to(device)
        matches = false_negatives(rows[chosen], captions[chosen], per_item).to(device)
        with runtime.autocast():
            texts = model.encode_text(tokens[torch.as_tensor(captions[chosen])].to(device))  # type: ignore[operator]
            loss = info_nce_loss(images, texts, scale, matches)
        optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(scaler.scale(loss))
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        with torch.no_grad():
            scale.clamp_(0.0, math.log(INFO_NCE_MAX_SCALE))
        if step % LOG_EVERY == 0 or step == total:
            _log(runtime, step, total, float(loss.detach()), optimizer, start)
        if runtime.stop.cancelled:
            break
    model.eval()
    freeze(model)
    return step


def _log(runtime: Runtime, step: int, total: int, loss: float, optimizer: torch.optim.Optimizer, start: float) -> None:
    rate = step / max(time.perf_counter() - start, 1e-9)
    runtime.report(
        "step",
        stage="b",
        step=step,
        total_steps=total,
        loss_nce=round(loss, 5),
        lr=optimizer.param_groups[0]["lr"],
        eta_s=round((total - step) / rate, 1),
    )
