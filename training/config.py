"""The training run's configuration: one dataclass, loaded from YAML, overridden on the command line,
and saved resolved into the run folder beside the checkpoints and metrics (as timm does)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from photosift.core.errors import UserError
from photosift.core.training_sets import MIN_PER_CLASS

Method = Literal["mcip", "gpr-ft", "2sft"]
SplitMode = Literal["image", "class"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run needs. Defaults are the MCIP authors' GPU recipe (../shared/MCIP.md).

    Those defaults (batch 128 at the model's resolution, lr 1e-6 tower / 1e-4 proxies, 3 epochs) are for a
    400M-parameter tower on millions of photos: tens of thousands of steps. A personal collection gives
    tens of steps an epoch, so it needs larger steps: see `SMALL_COLLECTION` (which the wizard's presets
    and the reproduction benchmark start from) and `python -m photosift.training --small-collection`.

    Effective step size: gradients are clipped to `grad_clip` per parameter group (tower, proxies) after
    loss scaling is undone, so the learning rates here are what Adam really applies. The authors clipped
    the still-scaled fp16 gradients (x 2^16), which shrinks every update far below its nominal rate (Adam
    in its eps-dominated regime): their "1e-6" is effectively smaller. We clip the true gradients on
    purpose, so that the same config means the same step in fp32 (CPU), bf16 and fp16.
    """

    data: str = ""  # folder-per-class collection, or a labels manifest (.json, see core.labels)
    model: str = ""  # base model: a name or a spec JSON path ("" = the library's model, else this machine's default)
    method: Method = "mcip"
    realign_after: bool = True  # re-align the text tower after mcip (the released model is MCIP + Re-A)
    name: str = ""  # name of the fine-tuned model ("" = derived from the base model and method)
    output: str = ""  # run folder ("" = <PHOTOSIFT_HOME>/runs/<name>)
    seed: int = 0
    split: SplitMode = "image"
    val_fraction: float = 0.2
    min_images_per_class: int = MIN_PER_CLASS  # the training wizard warns below the same number
    device: str = "auto"
    workers: int = 2
    # Stage (a): retrieval fine-tuning of the image tower.
    epochs: int = 3
    batch_size: int = 128  # the paper's (at 384 px); 0 = the largest that fits in GPU memory
    lr_tower: float = 1e-6
    lr_proxies: float = 1e-4
    min_lr: float = 1e-7
    weight_decay: float = 0.01
    grad_clip: float = 1.0  # max gradient norm of each parameter group; 0 = no clipping
    arc_scale: float = 30.0
    arc_margin: float = 0.1
    am_weight: float = 0.75
    mc_weight: float = 0.25
    patch_dropout: float = 0.33  # built into the model (force_patch_dropout), timm towers included
    grad_checkpointing: bool = True
    early_stopping_patience: int = 2  # epochs without a better validation mAP before stopping
    # Pseudo-captions for MCArcMargin.
    caption_file: str = ""
    caption_miner: str = ""  # model that mines the captions (name or spec path); "" = the model being tuned
    extra_terms: tuple[str, ...] = ()
    captions_top_k: int = 20
    captions_target_mean: float = 5.0
    # Stage (b): re-alignment of the text tower's last block.
    realign_epochs: int = 3
    realign_lr: float = 1e-5
    realign_batch_size: int = 256
    realign_weight_decay: float = 0.2

    @property
    def realigns(self) -> bool:
        """Whether stage (b) runs: always for 2sft, for mcip unless turned off, never for gpr-ft (which is
        the ArcMargin-only baseline)."""
        return self.method == "2sft" or (self.method == "mcip" and self.realign_after)

    @property
    def uses_captions(self) -> bool:
        return self.method != "gpr-ft"

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["extra_terms"] = list(self.extra_terms)
        return data


# Settings for a personal collection (hundreds to a few thousand labelled photos) on top of the paper's:
# tens of steps an epoch instead of tens of thousands, so the tower takes ten times larger steps and the
# randomly initialised class proxies a hundred times larger ones (they must find their classes within
# the first epoch); the batch is fitted to GPU memory (32 on a CPU), and checkpointing is left to GPUs.
SMALL_COLLECTION: dict[str, Any] = {"lr_tower": 1e-5, "lr_proxies": 1e-3, "batch_size": 0, "epochs": 5}


def _coerce(name: str, value: Any) -> Any:
    """Convert a YAML or command-line value to the field's type, with a clear error."""
    field = next(f for f in fields(TrainConfig) if f.name == name)
    default: Any = field.default
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        if isinstance(default, tuple):
            return tuple(value) if isinstance(value, (list, tuple)) else tuple(v for v in str(value).split(",") if v)
        converted = type(default)(value)
    except (TypeError, ValueError) as exc:
        raise UserError(f"The setting {name} = {value!r} is not a valid {type(default).__name__}.") from exc
    allowed = {"method": get_args(Method), "split": get_args(SplitMode)}.get(name)
    if allowed and converted not in allowed:
        raise UserError(f"The setting {name} must be one of {', '.join(allowed)}, not {value!r}.")
    return converted


def load_config(path: Path | None, overrides: dict[str, Any], base: dict[str, Any] | None = None) -> TrainConfig:
    """Defaults, then `base` (e.g. `SMALL_COLLECTION`), then the YAML file (if any), then command-line
    overrides (those that were given)."""
    values: dict[str, Any] = dict(base or {})
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise UserError(f"The training config {path} could not be read ({exc}).") from exc
        if not isinstance(loaded, dict):
            raise UserError(f"The training config {path} must be a mapping of settings.")
        values.update(loaded)
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"Unknown training settings: {', '.join(unknown)}.")
    config = TrainConfig(**{name: _coerce(name, value) for name, value in values.items()})
    if not config.data:
        raise UserError("Say which photos to train on: --data FOLDER (one subfolder per class) or --data LABELS.json.")
    return config


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One `--setting-name` option per config field, all defaulting to None ("not given")."""
    for field in fields(TrainConfig):
        flag = "--" + field.name.replace("_", "-")
        parser.add_argument(flag, dest=field.name, default=None, metavar=field.name.upper())


def save_config(config: TrainConfig, run_dir: Path) -> Path:
    path = run_dir / "config.json"
    path.write_text(json.dumps(config.to_dict(), indent=2), encoding="utf-8")
    return path
