"""Building a spec's open_clip architecture and tokenizer, without letting open_clip download anything.

Weights always come from our own loader (`core.models.weights`), so the architecture is built with
random initialisation (`pretrained=None`) and then overwritten. Seeding makes that initialisation
deterministic, which test specs with `random_init` rely on across processes. CLIP's tokenizer ships
inside open_clip; SigLIP-family and Hugging Face tokenizers, and a Hugging Face text tower's config
(NLLB-CLIP), come from the files the spec lists (`ModelSpec.files`), which the model's download fetched
with progress and resume like its weights: nothing here calls a hub client, so a missing file is an error
that says what to run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol, cast

import open_clip
import torch

from photosift.core.errors import ModelError
from photosift.core.models.spec import ModelSpec

HF_CONFIG = "config.json"  # a Hugging Face text tower's architecture, read by transformers' AutoConfig
RANDOM_INIT_SEED = 0  # any fixed value: random-init test models must embed identically in every process


class Tokenizer(Protocol):
    """open_clip's tokenizers: a list of texts in, a (N, context_length) tensor of token ids out."""

    def __call__(self, texts: list[str]) -> torch.Tensor: ...


def build_model(spec: ModelSpec, patch_dropout: float | None = None, models_dir: Path | None = None) -> torch.nn.Module:
    """Build the spec's architecture on the CPU in eval mode, with seeded random weights and no grads.

    `patch_dropout` (for training) goes to open_clip as `force_patch_dropout`, which also reaches timm-based
    towers (SigLIP, PE-Core) as their `patch_drop_rate`; it only acts in train mode. `models_dir`
    (`Paths.models`) is where a Hugging Face text tower's config is read from (see `_local_text_tower`).

    Raises:
        ModelError: open_clip does not know the architecture or cannot build it, or a Hugging Face text
            tower's config file is missing.
    """
    register_architecture(spec)
    overrides = _local_text_tower(spec, models_dir)
    # fork_rng keeps the caller's random state untouched; devices=[] leaves CUDA generators alone.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        try:
            model = open_clip.create_model(
                spec.architecture,
                pretrained=None,
                device="cpu",
                precision="fp32",
                force_patch_dropout=patch_dropout,
                **overrides,
            )
        except (RuntimeError, ValueError, TypeError, KeyError) as exc:
            raise ModelError(f"open_clip cannot build the {spec.architecture} architecture ({exc}).") from exc
    model = cast(torch.nn.Module, model)
    model.eval()
    model.requires_grad_(False)
    return model


def _local_text_tower(spec: ModelSpec, models_dir: Path | None) -> dict[str, Any]:
    """open_clip's overrides that build a Hugging Face text tower (NLLB-CLIP's) from the config.json among
    the spec's files, with random weights that ours overwrite; {} for every other tower.

    Left alone, open_clip asks the hub for the config and downloads the whole pretrained text model (2.5 GB
    for NLLB) while building the architecture, with no progress and no offline message."""
    text_cfg = _text_cfg(spec)
    if not text_cfg.get("hf_model_name"):
        return {}
    if models_dir is None or spec.files_folder is None:
        raise ModelError(
            f"The {spec.called}'s text tower is configured by a Hugging Face config file, but "
            f"{'no model folder was given' if spec.files_folder else 'its spec lists no files'}."
        )
    folder = models_dir / spec.files_folder
    _check_files(spec, folder)
    if not (folder / HF_CONFIG).is_file():
        raise ModelError(_refetch(spec, folder, f"is missing {HF_CONFIG}"))
    return {"text_cfg": text_cfg | {"hf_model_name": str(folder), "hf_model_pretrained": False}}


def load_tokenizer(spec: ModelSpec, models_dir: Path) -> Tokenizer:
    """The spec's text tokenizer: open_clip's bundled one, or a Hugging Face one built from the spec's
    files in `models_dir` (`Paths.models`), which the model's download fetched like its weights.

    Raises:
        ModelError: the spec lists no tokenizer files although the model needs them, a file is missing or
            unreadable (the message says how to fetch it again), or `transformers` is not installed.
    """
    if tokenizer_is_bundled(spec):
        return cast(Tokenizer, open_clip.get_tokenizer(spec.architecture))
    if spec.files_folder is None:
        raise ModelError(
            f"The {spec.called} needs Hugging Face tokenizer files, but its spec lists none: add them "
            f"to the spec's 'files' (see the built-in SigLIP specs)."
        )
    folder = models_dir / spec.files_folder
    _check_files(spec, folder)
    text_cfg = _text_cfg(spec)
    kwargs: dict[str, Any] = dict(text_cfg.get("tokenizer_kwargs", {}))
    try:
        from open_clip.tokenizer import HFTokenizer

        tokenizer = HFTokenizer(
            str(folder),
            context_length=text_cfg.get("context_length", open_clip.tokenizer.DEFAULT_CONTEXT_LENGTH),
            tokenizer_mode=text_cfg.get("tokenizer_mode"),
            local_files_only=True,  # the files are here or the check above said so: never ask a hub
            **kwargs,
        )
    except ImportError as exc:
        raise ModelError(f"The {spec.called} needs the `transformers` package for its tokenizer ({exc}).") from exc
    except (OSError, ValueError) as exc:  # transformers' words for a folder it cannot make a tokenizer of
        raise ModelError(_refetch(spec, folder, f"cannot be read as a tokenizer ({exc})")) from exc
    return cast(Tokenizer, tokenizer)


def tokenizer_is_bundled(spec: ModelSpec) -> bool:
    """Whether the tokenizer ships inside open_clip (CLIP's BPE: CLIP, MetaCLIP), needing no files.

    Hugging Face tokenizers and SigLIP's come from the spec's files instead. This follows open_clip's
    own choice in `get_tokenizer`.

    Raises:
        ModelError: the architecture is unknown.
    """
    return not _text_cfg(spec).get("hf_tokenizer_name") and "siglip" not in spec.architecture.lower()


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


def _text_cfg(spec: ModelSpec) -> dict[str, Any]:
    register_architecture(spec)
    return dict((open_clip.get_model_config(spec.architecture) or {}).get("text_cfg", {}))


def _check_files(spec: ModelSpec, folder: Path) -> None:
    """Raise a `ModelError` naming the first missing or damaged file, before transformers sees them:
    a damaged JSON file would otherwise surface as a bare `Exception` from the tokenizers library."""
    for file in spec.files:
        path = folder / file.name
        if not path.is_file():
            raise ModelError(_refetch(spec, folder, f"is missing {file.name}"))
        if path.suffix == ".json":
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise ModelError(_refetch(spec, folder, f"holds a damaged {file.name} ({exc})")) from exc


def _refetch(spec: ModelSpec, folder: Path, problem: str) -> str:
    return (
        f"The tokenizer folder {folder} of the {spec.called} {problem}: delete the file and run "
        f"`photosift models download {spec.name}` to fetch it again."
    )
