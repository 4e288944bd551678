"""Building a spec's open_clip architecture and tokenizer, without letting open_clip download weights.

Weights always come from our own loader (`core.models.weights`), so the architecture is built with
random initialisation (`pretrained=None`) and then overwritten. Seeding makes that initialisation
deterministic, which test specs with `random_init` rely on across processes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol, cast

import open_clip
import torch

from photosift.core.errors import ModelDownloadError, ModelError
from photosift.core.models.spec import ModelSpec

RANDOM_INIT_SEED = 0  # any fixed value: random-init test models must embed identically in every process


class Tokenizer(Protocol):
    """open_clip's tokenizers: a list of texts in, a (N, context_length) tensor of token ids out."""

    def __call__(self, texts: list[str]) -> torch.Tensor: ...


def build_model(spec: ModelSpec, patch_dropout: float | None = None) -> torch.nn.Module:
    """Build the spec's architecture on the CPU in eval mode, with seeded random weights and no grads.

    `patch_dropout` (for training) goes to open_clip as `force_patch_dropout`, which also reaches timm-based
    towers (SigLIP, PE-Core) as their `patch_drop_rate`; it only acts in train mode.

    Raises:
        ModelError: open_clip does not know the architecture or cannot build it.
    """
    register_architecture(spec)
    # fork_rng keeps the caller's random state untouched; devices=[] leaves CUDA generators alone.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        try:
            model = open_clip.create_model(
                spec.architecture, pretrained=None, device="cpu", precision="fp32", force_patch_dropout=patch_dropout
            )
        except (RuntimeError, ValueError, TypeError, KeyError) as exc:
            raise ModelError(f"open_clip cannot build the {spec.architecture} architecture ({exc}).") from exc
    model = cast(torch.nn.Module, model)
    model.eval()
    model.requires_grad_(False)
    return model


def load_tokenizer(spec: ModelSpec, cache_dir: Path) -> Tokenizer:
    """The spec's text tokenizer; Hugging Face tokenizers (SigLIP's) download into `cache_dir` once.

    Raises:
        ModelDownloadError: the tokenizer files could not be fetched (typically: offline on first use).
        ModelError: the `transformers` package it needs is not installed.
    """
    register_architecture(spec)
    try:
        tokenizer = open_clip.get_tokenizer(spec.architecture, cache_dir=str(cache_dir))
    except ImportError as exc:
        raise ModelError(f"The {spec.title} model needs the `transformers` package for its tokenizer ({exc}).") from exc
    # transformers and huggingface_hub raise their own types (OSError, HTTP errors, ValueError, ...),
    # and all of them mean the tokenizer could not be fetched or read.
    except Exception as exc:
        raise ModelDownloadError(
            f"The text tokenizer of the {spec.title} model could not be downloaded ({exc}). It is fetched "
            f"from Hugging Face into {cache_dir} on first use: connect to the internet once and try again."
        ) from exc
    return cast(Tokenizer, tokenizer)


def tokenizer_is_bundled(spec: ModelSpec) -> bool:
    """Whether `load_tokenizer` needs no download: open_clip's own BPE tokenizer, whose vocabulary ships
    inside the package (CLIP, MetaCLIP). Hugging Face tokenizers and SigLIP's are fetched on first use.
    This follows open_clip's own choice in `get_tokenizer`."""
    register_architecture(spec)
    text_cfg = (open_clip.get_model_config(spec.architecture) or {}).get("text_cfg", {})
    return not text_cfg.get("hf_tokenizer_name") and "siglip" not in spec.architecture.lower()


def register_architecture(spec: ModelSpec) -> None:
    """Make open_clip know the spec's architecture, registering its config file if it has one.

    open_clip keeps architectures in a process-wide table; registering is skipped when the same config
    is already there, so building many encoders does not grow open_clip's search path.

    Raises:
        ModelError: the architecture is unknown, or its config file cannot be read.
    """
    config = spec.open_clip_config
    if config is not None:
        try:
            wanted = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"The architecture config {config} cannot be read ({exc}).") from exc
        if open_clip.get_model_config(spec.architecture) != wanted:
            open_clip.add_model_config(config)
    if open_clip.get_model_config(spec.architecture) is not None:
        return
    if config is not None:
        raise ModelError(
            f"{config} is not an open_clip architecture config (it needs embed_dim, vision_cfg, text_cfg)."
        )
    raise ModelError(
        f"open_clip {open_clip.__version__} has no architecture named {spec.architecture!r}; "
        f"a spec for a custom architecture must give its 'open_clip_config'."
    )
