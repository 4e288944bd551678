"""One fine-tuning run from start to finish: data, base evaluation, pseudo-captions, stage (a),
optional re-alignment (b), evaluation, export. Resumable: an interrupted run continues from its last
checkpoint in the same run folder."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from photosift.core.evaluation.datasets import LabelledImages
from photosift.core.evaluation.prompts import class_text_embeddings
from photosift.core.evaluation.runner import EvalReport, embed_images, evaluate
from photosift.core.models.encoder import Encoder, select_device
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec
from photosift.core.progress import Progress
from photosift.core.settings import Paths, load_settings
from photosift.training.captions import (
    CaptionAssignment,
    build_caption_bank,
    encode_captions,
    load_assignment,
    mine_captions,
    save_assignment,
)
from photosift.training.checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint
from photosift.training.config import TrainConfig, save_config
from photosift.training.data import (
    DECODED_CACHE_BYTES,
    BatchAugment,
    Item,
    LabelledImageDataset,
    collate_skip_failed,
    load_training_data,
    train_transform,
)
from photosift.training.export import export_model, write_json
from photosift.training.recipe import describe_recipe
from photosift.training.runtime import Runtime
from photosift.training.stage_a import CaptionTable, RetrievalTrainer
from photosift.training.stage_b import realign
from photosift.training.towers import applied_patch_dropout, image_tower, prepare_image_tower

BEST_TOWER = "best_tower.safetensors"
MINED_CAPTIONS = "captions.npz"  # the pseudo-captions mined for the run (`captions.save_assignment`)


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    finished: bool  # False when stopped early by a signal: run again with --resume
    spec_name: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def run_dir_for(config: TrainConfig, paths: Paths) -> Path:
    return Path(config.output) if config.output else paths.root / "runs" / model_name(config)


def model_name(config: TrainConfig) -> str:
    if config.name:
        return config.name
    base = Path(config.model).stem if config.model else "default"
    return f"{base}-{config.method}-{datetime.now():%Y%m%d-%H%M%S}".lower()


def _items_dataset(root: Path, items: tuple[Item, ...], class_names: tuple[str, ...]) -> LabelledImages:
    labels = np.array([label for _, label in items], dtype=np.int64)
    return LabelledImages(root, tuple(path for path, _ in items), labels, class_names)


class FineTuneRun:
    """Holds the pieces of one run so the stages read as a short script in `execute`."""

    def __init__(self, config: TrainConfig, paths: Paths, runtime: Runtime) -> None:
        self.config, self.paths, self.runtime = config, paths, runtime
        registry = ModelRegistry(paths)
        # With no model named, the library's own: a library kept on an older default tunes that model.
        model = config.model or load_settings(paths).model
        self.base: ModelSpec = registry.resolve(model) if model else registry.default_spec(runtime.device)
        self.registry = registry
        # Patch dropout is built into the model (open_clip's force_patch_dropout), so that it also reaches
        # timm-based towers; it acts only in train mode, so evaluation and caption mining never see it.
        self.encoder = Encoder(self.base, paths, runtime.device, patch_dropout=config.patch_dropout)
        self.recipe: dict[str, Any] = {}
        self._decoders = max(1, config.workers)  # decode threads for evaluation; workers=0 only affects training
        self.data = load_training_data(
            Path(config.data),
            config.val_fraction,
            config.seed,
            hold_out_classes=config.split == "class",
            min_images=config.min_images_per_class,
        )
        self.validation = _items_dataset(Path(config.data), self.data.validation, self.data.class_names)
        # The validation classes' prompts embedded by the text tower as it is: kept while only the image
        # tower learns (stage a), dropped when re-alignment trains the text tower.
        self._class_texts: np.ndarray | None = None
        self.training = _items_dataset(Path(config.data), self.data.train, self.data.class_names)

    def evaluate(self, when: str) -> EvalReport:
        if self._class_texts is None and self.validation.named:
            self._class_texts = class_text_embeddings(self.encoder, self.validation.class_names)
        report = evaluate(
            self.encoder, self.validation, self._progress, workers=self._decoders, class_texts=self._class_texts
        )
        self.runtime.report("eval", when=when, **{k: v for k, v in dataclasses.asdict(report).items()})
        return report

    def _progress(self, p: Progress) -> None:
        if p.stage == "download" or p.done == p.total:
            self.runtime.report("progress", stage=p.stage, done=p.done, total=p.total, message=p.message)

    def captions(self, keep: bool = True) -> tuple[CaptionTable, list[str]] | None:
        """Mine pseudo-captions before any fine-tuning, when the method needs them: with the base model, or
        with `caption_miner` (the authors mined in another model's space). With `keep` they are saved in
        the run folder, where a resumed run reads them back (a plan writes nothing). The loss always uses
        the tuned model's own frozen text embeddings of the captions chosen."""
        if not self.config.uses_captions:
            return None
        caption_file = Path(self.config.caption_file) if self.config.caption_file else None
        bank = build_caption_bank(self.data.class_names, self.config.extra_terms, caption_file)
        miner_spec = self.registry.resolve(self.config.caption_miner) if self.config.caption_miner else self.base
        # What the captions were mined from: a resumed run finds them in its folder (`MINED_CAPTIONS`).
        settings = [self.config.captions_top_k, self.config.captions_target_mean]
        inputs = json.dumps([miner_spec.key, *settings, bank, self.training.paths], default=str)
        identity = hashlib.sha256(inputs.encode()).hexdigest()  # a digest: 50,000 photos' paths are megabytes
        saved = self.runtime.run_dir / MINED_CAPTIONS
        mined, bank_vectors = load_assignment(saved, identity), None
        if mined is None:
            miner = self.encoder if miner_spec is self.base else Encoder(miner_spec, self.paths, self.runtime.device)
            miner_vectors = encode_captions(miner, bank)
            mined = self._mine(miner, miner_vectors)
            if miner is self.encoder:
                bank_vectors = miner_vectors
            else:
                miner.release()
            if keep:
                save_assignment(saved, mined, identity)
        if bank_vectors is None:
            bank_vectors = encode_captions(self.encoder, bank)
        self.runtime.report(
            "captions",
            bank=len(bank),
            coverage=mined.coverage,
            mean_per_image=mined.mean_per_image,
            threshold=mined.threshold,
            miner=miner_spec.name,
        )
        return CaptionTable(torch.from_numpy(bank_vectors), list(mined.captions)), bank

    def _mine(self, miner: Encoder, bank_vectors: np.ndarray) -> CaptionAssignment:
        """Each training photo's captions by the miner's similarities; unreadable photos get none."""
        embedded = embed_images(miner, self.training.paths, self._progress, None, self._decoders, 32)
        vectors = np.zeros((len(self.training.paths), bank_vectors.shape[1]), dtype=np.float32)
        vectors[embedded.kept] = embedded.vectors
        mined = mine_captions(vectors, bank_vectors, self.config.captions_top_k, None, self.config.captions_target_mean)
        readable = set(embedded.kept.tolist())  # an unreadable photo's vector is zero: no captions
        captions = tuple(c if i in readable else c[:0] for i, c in enumerate(mined.captions))
        return dataclasses.replace(mined, captions=captions)

    def stage_a(self, captions: CaptionTable | None) -> bool:
        """Retrieval fine-tuning; returns False if stopped by a signal (checkpoint saved)."""
        model = self.encoder.model
        tricks = prepare_image_tower(model, self.config.grad_checkpointing)
        self.runtime.report("stage", stage="a", method=self.config.method, tricks=tricks)
        trainer = RetrievalTrainer(
            model,
            len(self.data.class_names),
            self.base.embed_dim,
            self.config,
            self.runtime,
            captions if self.config.method == "mcip" else None,
        )
        checkpoint = self.runtime.run_dir / CHECKPOINT
        if checkpoint.exists():
            trainer.load_state_dict(load_checkpoint(checkpoint, self.runtime.device))
            self.runtime.report("resumed", step=trainer.progress.step, epoch=trainer.progress.epoch)
        if trainer.batch_size == 0:
            trainer.batch_size = trainer.fit_batch_size(self.base.image_size)
            self.runtime.report("batch_size", batch_size=trainer.batch_size)
        rate = applied_patch_dropout(model)
        self.recipe = describe_recipe(self.config, tricks, rate, trainer.batch_size, self.runtime.precision)
        self.runtime.report("recipe", **self.recipe)
        cache_bytes = DECODED_CACHE_BYTES if self.config.workers == 0 else 0
        dataset = LabelledImageDataset(self.data.train, train_transform(self.base), cache_bytes)
        best = self.runtime.run_dir / BEST_TOWER
        progress = trainer.train(
            dataset,
            collate_skip_failed,
            BatchAugment.for_spec(self.base),
            validate=lambda epoch: self.evaluate(f"epoch {epoch}").map,
            save_checkpoint=lambda: save_checkpoint(trainer.state_dict(), checkpoint),
            save_best=lambda: save_file(_cpu_state(image_tower(model)), str(best)),
        )
        if self.runtime.stop.cancelled:
            return False
        if best.exists():
            image_tower(model).load_state_dict(load_file(str(best), device=self.runtime.device))
        self.runtime.report("stage_done", stage="a", best_map=progress.best_map, epochs=progress.epoch)
        return True

    def stage_b(self, captions: tuple[CaptionTable, list[str]] | None) -> None:
        if captions is None or not self.config.realigns:
            return
        table, bank = captions
        self._class_texts = None
        self.encoder.model.eval()
        embedded = embed_images(self.encoder, self.training.paths, self._progress, None, self._decoders, 32)
        per_item = [table.per_item[row] for row in embedded.kept.tolist()]
        self.runtime.report("stage", stage="b")
        realign(
            self.encoder.model,
            torch.from_numpy(embedded.vectors),
            per_item,
            self.encoder.tokenize(bank),
            self.config,
            self.runtime,
        )


def _cpu_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in module.state_dict().items()}


def execute(config: TrainConfig, paths: Paths, runtime: Runtime) -> RunResult:
    """Run (or resume) the whole fine-tuning described by `config`."""
    runtime.run_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, runtime.run_dir)
    # The class proxies' initialisation and the augmentation (DataLoader workers seed from the global
    # generator): the same seed gives the same run, so methods compared at one seed start alike.
    torch.manual_seed(config.seed)
    job = FineTuneRun(config, paths, runtime)
    runtime.report(
        "start",
        run_dir=str(runtime.run_dir),
        base=job.base.name,
        device=runtime.device,
        method=config.method,
        train=len(job.data.train),
        validation=len(job.data.validation),
        classes=len(job.data.class_names),
    )
    for warning in job.data.warnings:
        runtime.report("warning", message=warning)
    before_file = runtime.run_dir / "eval_before.json"
    before = job.evaluate("before") if not before_file.exists() else None
    if before is not None:
        write_json(before_file, dataclasses.asdict(before))
    captions = job.captions()
    if not job.stage_a(captions[0] if captions else None):
        return RunResult(runtime.run_dir, finished=False)
    job.stage_b(captions)
    after = job.evaluate("after")
    name = config.name or runtime.run_dir.name
    description = f"{config.method} fine-tuning of {job.base.name} on {config.data}"
    spec = export_model(job.encoder.model, job.base, name, description, runtime.run_dir, paths)
    summary = {"before": json.loads(before_file.read_text()), "after": dataclasses.asdict(after), "recipe": job.recipe}
    write_json(runtime.run_dir / "eval.json", summary)
    runtime.report("done", model=spec.name, spec=str(paths.user_specs / f"{spec.name}.json"))
    return RunResult(runtime.run_dir, True, spec.name, summary["before"], summary["after"])


def make_runtime(config: TrainConfig, paths: Paths, report: Any, stop: Any) -> Runtime:
    return Runtime(run_dir_for(config, paths), select_device(config.device), report, stop)
