"""Stage (b): re-alignment (Re-A). The image tower is locked and its embeddings of the training photos
are computed once; the text tower's last block, final norm, projection and the logit scale learn to
match them again with CLIP's InfoNCE loss (../shared/MCIP.md). It repairs the text alignment that
ArcMargin-only fine-tuning (gpr-ft) costs."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

from photosift.training.config import TrainConfig
from photosift.training.losses import INFO_NCE_MAX_SCALE, info_nce_loss
from photosift.training.runtime import Runtime
from photosift.training.schedule import cosine_schedule, decay_split
from photosift.training.towers import freeze, logit_scale, text_tail_parameters, text_transformer

LOG_EVERY = 10
# The frozen text blocks' outputs for every caption of the bank are kept (on the training device) when they
# fit in this much memory: SO400M's text tower holds 64 tokens x 1152 floats a caption, 0.3 MB.
PREFIX_CACHE_BYTES = 1 << 30
PREFIX_BATCH = 64  # captions a pass while the frozen blocks' outputs are computed


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
    to [0, ln 100] after every step. The text tower's frozen blocks run once over the bank, not every
    step (`frozen_text_blocks_once`).

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
    with frozen_text_blocks_once(model, tokens, runtime) as select:
        for step in range(1, total + 1):
            chosen = torch.randperm(len(rows), generator=generator)[:batch].numpy()
            images = image_embeddings[torch.as_tensor(rows[chosen])].to(device)
            matches = false_negatives(rows[chosen], captions[chosen], per_item).to(device)
            batch_captions = torch.as_tensor(captions[chosen])
            select(batch_captions)
            with runtime.autocast():
                texts = model.encode_text(tokens[batch_captions].to(device))  # type: ignore[operator]
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


@contextlib.contextmanager
def frozen_text_blocks_once(
    model: nn.Module, tokens: torch.Tensor, runtime: Runtime
) -> Iterator[Callable[[torch.Tensor], None]]:
    """Run the text tower's frozen blocks once over the caption bank, and stand in for them while the
    tail trains: yields `select(captions)`, which says whose outputs the next `encode_text` gets.

    Re-alignment trains the last block and what follows it; every step used to run all the frozen blocks
    again for its captions, which come from a bank of a few hundred or thousand. Computed once, in train
    mode as the steps run them, so the tail sees the same inputs. Where the outputs would not fit in
    `PREFIX_CACHE_BYTES`, the blocks run every step as before; the run log says which ("realign_cache")."""
    transformer = text_transformer(model)
    blocks = cast(nn.ModuleList, transformer.resblocks)
    outputs = _frozen_block_outputs(model, transformer, tokens, runtime)
    if outputs is None:
        yield lambda _captions: None
        return
    weight_dtype = transformer.get_cast_dtype()  # type: ignore[operator]  # asks the first block
    stand_in = _FrozenBlocks(outputs, getattr(transformer, "batch_first", True), weight_dtype)
    transformer.resblocks = nn.ModuleList([stand_in, blocks[-1]])
    try:
        yield stand_in.select
    finally:
        transformer.resblocks = blocks


def _frozen_block_outputs(
    model: nn.Module, transformer: nn.Module, tokens: torch.Tensor, runtime: Runtime
) -> torch.Tensor | None:
    """(captions, tokens, width) outputs of all blocks but the last for every caption of the bank, or None
    (and why, in the run log) when they would take more than `PREFIX_CACHE_BYTES` (judged from the first
    pass) or there is no frozen block."""
    blocks = cast(nn.ModuleList, transformer.resblocks)
    found: list[torch.Tensor] = []
    hook = transformer.register_forward_hook(lambda _module, _args, output: found.append(output))
    transformer.resblocks = blocks[:-1]
    size = 0
    try:
        with torch.no_grad(), runtime.autocast():
            for start in range(0, len(tokens) if len(blocks) > 1 else 0, PREFIX_BATCH):
                model.encode_text(tokens[start : start + PREFIX_BATCH].to(runtime.device))  # type: ignore[operator]
                size = found[0].nbytes * len(tokens) // len(found[0])
                if size > PREFIX_CACHE_BYTES:
                    break
    finally:
        transformer.resblocks = blocks
        hook.remove()
    cached = bool(found) and size <= PREFIX_CACHE_BYTES
    runtime.report("realign_cache", frozen_blocks=len(blocks) - 1, cached=cached, mb=round(size / 2**20, 1))
    return torch.cat(found) if cached else None


class _FrozenBlocks(nn.Module):
    """Stands in for the text tower's frozen blocks: returns their stored outputs for the selected captions,
    whatever it is given (the token embeddings), in the layout the transformer runs its blocks in."""

    def __init__(self, outputs: torch.Tensor, batch_first: bool, weight_dtype: torch.dtype) -> None:
        super().__init__()
        self.outputs, self.batch_first, self.weight_dtype = outputs, batch_first, weight_dtype
        self.captions: torch.Tensor | None = None

    def get_weight_dtype(self) -> torch.dtype:
        """What the first real block says: open_clip casts the token embeddings to it."""
        return self.weight_dtype

    def select(self, captions: torch.Tensor) -> None:
        self.captions = captions.to(self.outputs.device)

    def forward(self, x: torch.Tensor, *_args: object, **_kwargs: object) -> torch.Tensor:
        if self.captions is None or len(self.captions) != x.shape[0 if self.batch_first else 1]:
            raise RuntimeError("the frozen text blocks' stand-in was not told which captions come next")
        out = self.outputs[self.captions]
        return out if self.batch_first else out.transpose(0, 1)


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
