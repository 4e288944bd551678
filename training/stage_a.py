"""Stage (a): retrieval fine-tuning of the image tower: ArcMargin on class labels, plus MCArcMargin
towards the frozen text embeddings of each photo's pseudo-captions for MCIP (../shared/MCIP.md)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from photosift.core.errors import EnvironmentFault
from photosift.training.config import TrainConfig
from photosift.training.losses import ArcMarginLoss, MCArcMarginLoss, combined_mcip_loss
from photosift.training.runtime import Runtime
from photosift.training.schedule import cosine_schedule
from photosift.training.towers import image_tower

LOG_EVERY = 10  # steps between progress lines: often enough for live plots, rare enough to stay cheap
CPU_BATCH = 32  # "automatic" batch size without a GPU: memory is plentiful, larger batches only add latency
GPU_FIRST_TRY = 256  # largest batch tried when fitting to GPU memory (the paper used 128 at 384 px)


@dataclass(frozen=True)
class CaptionTable:
    """Frozen text embeddings of the caption bank, and which captions belong to each training photo."""

    embeddings: torch.Tensor  # (T, D), normalised
    per_item: Sequence[np.ndarray]  # caption indices per training item

    def for_batch(self, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(embeddings of the batch's distinct captions, (B, T) positive mask) for the photos of one batch.

        A caption owned by several photos of the batch (two photos of one class share template captions)
        is one column, positive for each of them, never a negative copy of itself (MCIP.md)."""
        owned = [self.per_item[int(item)] for item in items]
        columns = np.unique(np.concatenate(owned)) if owned else np.zeros(0, dtype=np.int64)
        positive = torch.from_numpy(np.stack([np.isin(columns, c) for c in owned])) if owned else torch.zeros(0, 0)
        return self.embeddings[torch.as_tensor(columns, dtype=torch.long)], positive.bool()


@dataclass
class Progress:
    """Where the stage is; saved in checkpoints so an interrupted run resumes at the same batch."""

    epoch: int = 0
    batches_done: int = 0  # in the current epoch
    step: int = 0
    best_map: float = -1.0
    bad_epochs: int = 0


def epoch_batches(n_items: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The shuffled batches of one epoch, reproducible from (seed, epoch) so a resumed run skips exactly
    the batches already done. The last partial batch is kept, as the authors do: on a small collection
    dropping it would leave up to a batch of photos unseen every epoch."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n_items, generator=generator).tolist()
    return [order[i : i + batch_size] for i in range(0, n_items, batch_size)]


class RetrievalTrainer:
    """Trains the image tower (and ArcMargin proxies) in place on `model`."""

    def __init__(
        self,
        model: nn.Module,
        num_classes: int,
        embed_dim: int,
        config: TrainConfig,
        runtime: Runtime,
        captions: CaptionTable | None,
    ) -> None:
        self.model, self.config, self.runtime, self.captions = model, config, runtime, captions
        self.arc = ArcMarginLoss(embed_dim, num_classes, config.arc_scale, config.arc_margin).to(runtime.device)
        self.mc = MCArcMarginLoss(config.arc_scale, config.arc_margin) if captions is not None else None
        tower = [p for p in image_tower(model).parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            [{"params": tower, "lr": config.lr_tower}, {"params": self.arc.parameters(), "lr": config.lr_proxies}],
            betas=(0.9, 0.999),
            eps=1e-8,
            weight_decay=config.weight_decay,
        )
        self.scaler = runtime.grad_scaler()
        self.progress = Progress()
        self.batch_size = config.batch_size  # 0 until `fit_batch_size` chooses one
        self.scheduler: torch.optim.lr_scheduler.LambdaLR | None = None
        self._pending_scheduler: dict[str, Any] | None = None  # from a checkpoint, applied once built

    def fit_batch_size(self, image_size: int) -> int:
        """The largest batch (halving from GPU_FIRST_TRY) for which a training step fits in GPU memory."""
        if self.runtime.device != "cuda":
            return CPU_BATCH
        size = GPU_FIRST_TRY
        while size >= 1:
            try:
                self._probe(size, image_size)
                return size
            except torch.cuda.OutOfMemoryError:
                torch.cuda.empty_cache()
                size //= 2
        raise EnvironmentFault("Not even one photo per step fits in GPU memory; try a smaller model.")

    def _probe(self, size: int, image_size: int) -> None:
        """One forward and backward pass on random pixels, leaving weights and optimizer untouched."""
        self.model.train()
        images = torch.randn(size, 3, image_size, image_size, device=self.runtime.device)
        labels = torch.zeros(size, dtype=torch.long, device=self.runtime.device)
        with self.runtime.autocast():
            loss = self.arc(self.model.encode_image(images), labels)  # type: ignore[operator]
        torch.autograd.backward(loss)
        self.optimizer.zero_grad(set_to_none=True)
        self.arc.zero_grad(set_to_none=True)

    def state_dict(self) -> dict[str, Any]:
        return {
            "tower": image_tower(self.model).state_dict(),
            "arc": self.arc.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler else None,
            "scaler": self.scaler.state_dict(),
            "progress": vars(self.progress).copy(),
            "batch_size": self.batch_size,  # a resumed run must cut the same batches
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        image_tower(self.model).load_state_dict(state["tower"])
        self.arc.load_state_dict(state["arc"])
        self.optimizer.load_state_dict(state["optimizer"])
        self._pending_scheduler = state["scheduler"]
        self.scaler.load_state_dict(state["scaler"])
        self.progress = Progress(**state["progress"])
        self.batch_size = int(state["batch_size"])

    def train(
        self,
        dataset: Dataset[Any],
        collate: Callable[[list[Any]], Any],
        augment: Callable[[torch.Tensor], torch.Tensor],
        validate: Callable[[int], float],
        save_checkpoint: Callable[[], None],
        save_best: Callable[[], None],
    ) -> Progress:
        """Run the remaining epochs; returns where it stopped. `augment` turns a collated batch, once on the
        training device, into the model's input. Validation mAP after each epoch drives early stopping and
        picks the best weights (`save_best` is called when they improve)."""
        n_items = len(dataset)  # type: ignore[arg-type]
        batch_size = min(self.batch_size, n_items)  # a small collection still gets one batch an epoch
        steps_per_epoch = math.ceil(n_items / batch_size)
        self.scheduler = cosine_schedule(self.optimizer, steps_per_epoch * self.config.epochs, self.config.min_lr)
        if self._pending_scheduler is not None:
            self.scheduler.load_state_dict(self._pending_scheduler)
        start, total = time.perf_counter(), steps_per_epoch * self.config.epochs
        first_step = self.progress.step
        while self.progress.epoch < self.config.epochs:
            batches = epoch_batches(n_items, batch_size, self.config.seed, self.progress.epoch)[
                self.progress.batches_done :
            ]
            loader = DataLoader(dataset, batch_sampler=batches, collate_fn=collate, num_workers=self.config.workers)
            self.model.train()
            for batch in loader:
                if len(batch.images) == 0:  # every photo of this batch failed to load
                    continue
                images = augment(batch.images.to(self.runtime.device, non_blocking=True))
                parts = self._step(images, batch.labels, batch.indices)
                self.progress.batches_done += 1
                self.progress.step += 1
                self._log(parts, total, first_step, start)
                if self.runtime.stop.cancelled:
                    save_checkpoint()
                    return self.progress
            self.progress.epoch += 1
            self.progress.batches_done = 0
            stop = self._end_epoch(validate, save_best)
            save_checkpoint()  # also when stopping early: a resumed run must not train the last epoch again
            if stop:
                break
        return self.progress

    def _end_epoch(self, validate: Callable[[int], float], save_best: Callable[[], None]) -> bool:
        """Validate; returns True when training should stop early."""
        self.model.eval()
        score = validate(self.progress.epoch)
        if score > self.progress.best_map:
            self.progress.best_map, self.progress.bad_epochs = score, 0
            save_best()
        else:
            self.progress.bad_epochs += 1
        return self.progress.bad_epochs >= self.config.early_stopping_patience

    def _step(self, images: torch.Tensor, labels: torch.Tensor, items: torch.Tensor) -> dict[str, float]:
        device = self.runtime.device
        labels = labels.to(device, non_blocking=True)
        with self.runtime.autocast():
            embeddings = self.model.encode_image(images)  # type: ignore[operator]
            loss_am = self.arc(embeddings, labels)
            loss = loss_am
            parts = {"loss_am": float(loss_am.detach())}
            if self.mc is not None and self.captions is not None:
                captions, positive = self.captions.for_batch(items)
                loss_mc = self.mc(embeddings, captions.to(device), positive.to(device))
                loss = combined_mcip_loss(loss_am, loss_mc, self.config.am_weight, self.config.mc_weight)
                parts["loss_mc"] = float(loss_mc.detach())
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        for group in self.optimizer.param_groups:  # tower and proxies separately, on the true gradients
            torch.nn.utils.clip_grad_norm_(group["params"], self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()
        return {"loss": float(loss.detach()), **parts}

    def _log(self, parts: dict[str, float], total: int, first_step: int, start: float) -> None:
        step = self.progress.step
        if step % LOG_EVERY and step != total:
            return
        rate = (step - first_step) / max(time.perf_counter() - start, 1e-9)
        self.runtime.report(
            "step",
            stage="a",
            epoch=self.progress.epoch,
            step=step,
            total_steps=total,
            lr=self.optimizer.param_groups[0]["lr"],
            eta_s=round((total - step) / rate, 1) if rate > 0 else None,
            **{k: round(v, 5) for k, v in parts.items()},
        )
