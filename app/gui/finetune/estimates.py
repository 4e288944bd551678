"""How long a run will take and how much GPU memory it needs, said honestly.

Time is counted in "inference photos": the work of embedding one photo, which is what indexing does and
what a model spec's `indexing_speed` measures on reference hardware. A run embeds the held-out photos
before training, after each epoch and at the end; embeds the training photos and the caption bank once to
mine pseudo-captions; and trains on every training photo each epoch, which costs `TRAIN_COST` inference
photos apiece. Before the plan has run, the rate is the spec's reference speed (an estimate for this kind
of device; on a CPU converted from onnxruntime, which indexing uses, to torch, which training uses);
after it, the rate this machine measured with this model, so the figure becomes a measurement scaled by a
measured ratio. Early stopping can only make a run shorter than the figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths
from photosift.training.config import TrainConfig

# One training photo (forward, ArcMargin, backward, AdamW, patch dropout 0.33) against one inference photo,
# from `python benchmarks/bench_train_cost.py` (ViT-B/32, the shared 2-core CPU, whose load from other jobs
# makes single runs vary): 2.4 to 4.3 in seven runs, median 2.9. With gradient checkpointing, which runs
# the forward pass twice: 3.4, 3.5 and 3.8, median 3.5. No GPU was at hand; the same ratios are assumed there
# (they are ratios of work, which a GPU speeds up alike), hence "estimate" before the plan measures the rate.
TRAIN_COST = 2.9
TRAIN_COST_CHECKPOINTED = 3.5
TEXT_COST = 1.0  # one caption against one photo: 0.96 to 1.10 measured for ViT-B/32 (same benchmark)
# A spec's CPU `indexing_speed` is measured on onnxruntime, as indexing runs on a CPU; training runs on torch,
# whose inference is this many times slower there: MetaCLIP ViT-B/32 model-only 47.7 against 23.3 photos/s,
# `bench_indexing.py --model vit-b-32-metaclip --runtime auto` beside `--runtime torch` on a quiet 2-core host.
CPU_ONNX_SPEEDUP = 2.0
STARTUP_S = 15.0  # process start, imports and model load: 6 s for the tiny model here, more to read big weights
# GPU memory of training, per byte of fp32 weights: the weights, plus the image tower's gradients and AdamW's
# two moments. The image tower is at most 0.6 of a CLIP model (ViT-B/32: 88M of 151M parameters; SigLIP
# So400m: 428M of 878M), so 1 + 3 * 0.6 = 2.8. Activations come on top; the batch size is then fitted to
# whatever memory is left.
MEMORY_PER_WEIGHT_BYTE = 2.8
CUDA_OVERHEAD_GB = 1.0  # CUDA context and allocator slack
GB = 1024**3


@dataclass(frozen=True)
class Estimate:
    """A run's expected duration and GPU memory.

    Attributes:
        seconds: None when no speed is known for this model on this device.
        measured: the rate behind `seconds` was measured on this machine (by the plan), not taken from
            the model's reference speed.
        memory_gb: GPU memory before the batch's activations; None on a CPU or for weights of unknown size.
    """

    seconds: float | None
    measured: bool
    memory_gb: float | None


def run_work(config: TrainConfig, n_train: int, n_validation: int, captions: int) -> float:
    """The run's work in inference photos (see the module docstring)."""
    evaluations = n_validation * (config.epochs + 2)
    uses_captions = config.uses_captions
    mining = (n_train + captions * TEXT_COST) if uses_captions else 0.0
    step_cost = TRAIN_COST_CHECKPOINTED if config.grad_checkpointing else TRAIN_COST
    realign = n_train if config.realigns else 0  # embeds the photos again
    return evaluations + mining + n_train * config.epochs * step_cost + realign


def estimate(
    config: TrainConfig,
    spec: ModelSpec,
    paths: Paths,
    device_kind: str,
    sizes: tuple[int, int],
    captions: int,
    measured_rate: float | None = None,
) -> Estimate:
    """The estimate for `config` on `sizes` = (training, held-out) photos with a caption bank of `captions`."""
    reference = spec.speed_on(device_kind)
    if reference and device_kind == "cpu":
        reference /= CPU_ONNX_SPEEDUP  # an inference photo here is a torch one, as TRAIN_COST counts it
    rate = measured_rate or reference
    seconds = None if not rate else STARTUP_S + run_work(config, *sizes, captions) / rate
    return Estimate(
        seconds, measured_rate is not None, training_memory_gb(spec, paths) if device_kind != "cpu" else None
    )


def training_memory_gb(spec: ModelSpec, paths: Paths) -> float | None:
    """GPU memory for the weights and optimizer state, from the size of the fp32 weights file."""
    size_bytes = spec.download_mb * 1e6 if spec.download_mb > 0 else _file_size(spec.weights_file(paths))
    if not size_bytes:
        return None
    return size_bytes * MEMORY_PER_WEIGHT_BYTE / GB + CUDA_OVERHEAD_GB


def _file_size(path: Path | None) -> float:
    try:
        return float(path.stat().st_size) if path is not None else 0.0
    except OSError:
        return 0.0


def gpu_memory_gb() -> float | None:
    """Total memory of the first CUDA GPU, or None without one."""
    import torch  # the GUI has torch loaded already for its own model; imported here to keep startup lean

    if not torch.cuda.is_available():
        return None
    return float(torch.cuda.get_device_properties(0).total_memory) / GB


def duration_text(seconds: float) -> str:
    """A rounded duration: "under a minute", "about 12 minutes", "about 3.5 hours"."""
    if seconds < 60:
        return "under a minute"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} minute{'s' if round(seconds / 60) != 1 else ''}"
    hours = seconds / 3600
    return f"about {hours:.1f} hours" if hours < 10 else f"about {round(hours)} hours"


def describe(found: Estimate) -> str:
    """The estimate as a phrase for a preset's line, saying what it rests on."""
    if found.seconds is None:
        time = "time not known yet (measured on the Captions page)"
    else:
        source = "measured on this computer" if found.measured else "estimate"
        time = f"{duration_text(found.seconds)} at most ({source})"
    if found.memory_gb is None:
        return time
    return f"{time}; GPU memory about {found.memory_gb:.0f} GB plus the batch (estimate)"
