"""The run's result as a model the core can load: safetensors weights plus a spec JSON, registered
among the user's models, with the before/after evaluation beside it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from safetensors.torch import save_file
from torch import nn

from photosift.core.atomic import write_text
from photosift.core.models.spec import ModelSpec, dump_spec
from photosift.core.settings import Paths


def export_model(
    model: nn.Module, base: ModelSpec, name: str, description: str, run_dir: Path, paths: Paths
) -> ModelSpec:
    """Save the whole model's weights and a spec that loads them; returns the registered spec."""
    weights = run_dir / "model.safetensors"
    # Clone: safetensors refuses tensors that share storage, and a state dict can hold views.
    save_file({k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}, str(weights))
    spec = dataclasses.replace(
        base,
        name=name,
        title=f"{base.title}, fine-tuned ({name})",
        description=description,
        weights=None,
        checkpoint=weights.resolve(),
        random_init=False,
        sha256=None,
        default_for=(),
        path=None,
    )
    dump_spec(spec, run_dir / "model.json")
    paths.user_specs.mkdir(parents=True, exist_ok=True)
    dump_spec(spec, paths.user_specs / f"{name}.json")
    return spec


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=str), f"the run file {path.name}")
