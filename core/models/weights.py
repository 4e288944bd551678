"""Model weights: installing a file fetched by hand, and loading state dicts without ever running code from
the file (downloading them is `core.models.download`).

Checkpoints are untrusted data (a user may import any file), so pickles load with
`torch.load(weights_only=True)` and safetensors files with safetensors; every failure becomes a
`ModelError` that says what was wrong, never a traceback from deep inside torch.
"""

from __future__ import annotations

import hashlib
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path

import safetensors.torch
import torch

from photosift.core.errors import EnvironmentFault, ModelError
from photosift.core.models.build import build_model
from photosift.core.models.download import CHUNK_BYTES, discard_partial_download
from photosift.core.models.spec import ModelSpec
from photosift.core.progress import CancelToken
from photosift.core.settings import Paths

WRAPPER_KEYS = ("state_dict", "model")  # training scripts nest the weights under one of these
STRIP_PREFIXES = ("module.", "_orig_mod.")  # DataParallel/DDP and torch.compile wrappers


def install_weights(source: Path, spec: ModelSpec, paths: Paths, cancel: CancelToken | None = None) -> Path:
    """Copy a weights file the user fetched some other way (another computer, a USB stick) to where
    `spec` loads its weights from: the offline route to a model that is normally downloaded.

    Nothing is copied unless the file loads strictly into the spec's architecture and, when the spec
    names a sha256, is exactly that file, so a wrong pick never takes the place of the real weights.

    Returns:
        The installed file, `spec.weights_file(paths)`.

    Raises:
        ModelError: the spec has no weights file (random init), or `source` is not a checkpoint, does not
            fit the architecture, or is not the file the spec's checksum names.
        EnvironmentFault: the copy could not be written.
        Cancelled: `cancel` was set; no partial file is left behind.
    """
    dest = spec.weights_file(paths)
    if dest is None:
        raise ModelError(f"The {spec.called} has no weights file to install.")
    source = Path(source).expanduser()
    _check_fit(source, spec, paths)
    copy = dest.with_name(dest.name + ".copy")  # not ".part": that may be a download to resume
    try:
        digest = _copy(source, copy, cancel)
        if spec.sha256 is not None and digest != spec.sha256:
            raise ModelError(f"{source} fits the {spec.called} but is not the file it expects: its checksum differs.")
        copy.replace(dest)
    finally:
        copy.unlink(missing_ok=True)
    discard_partial_download(dest)  # the file is here now: a half-finished download of it is moot
    return dest


def _check_fit(source: Path, spec: ModelSpec, paths: Paths) -> None:
    """Raise `ModelError` unless `source` loads into the spec's architecture; both are freed on return,
    before a multi-gigabyte copy starts."""
    apply_state_dict(build_model(spec, models_dir=paths.models), load_state_dict(source), spec.name)


def _copy(source: Path, dest: Path, cancel: CancelToken | None) -> str:
    """Copy `source` to `dest` and return its hex sha256, computed in the same pass."""
    digest = hashlib.sha256()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as src, dest.open("wb") as out:
            while chunk := src.read(CHUNK_BYTES):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise EnvironmentFault(f"Could not copy {source} to {dest} ({exc.strerror or exc}).") from exc
    return digest.hexdigest()


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint file as a flat state dict of tensors, on the CPU.

    Accepts safetensors files (detected by extension or content) and torch pickles (`.pt`, `.pth`,
    `.bin`), optionally nesting the weights under "state_dict" or "model" and with DataParallel's
    "module." or torch.compile's "_orig_mod." key prefixes.

    Raises:
        ModelError: the file is missing, unreadable, holds code or objects other than tensors, or is no
            checkpoint at all.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"The checkpoint {path} does not exist.")
    try:
        if path.suffix == ".safetensors" or _looks_like_safetensors(path):
            loaded: object = safetensors.torch.load_file(str(path), device="cpu")
        else:
            # Memory-map zip checkpoints: tensors then stream into the model instead of being held
            # twice, which matters for a 3.5 GB model on a laptop with 8 GB of memory.
            mmap = zipfile.is_zipfile(path)
            loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as exc:  # torch's own text ends by suggesting weights_only=False: never say that
        raise ModelError(_refused_pickle(path, exc), details=str(exc)) from exc
    # Untrusted file: torch and safetensors raise a wide variety of errors on bad input (UnpicklingError
    # for refused objects, RuntimeError for broken archives, EOFError, ValueError, ...). All mean the same.
    except Exception as exc:
        raise ModelError(f"{path} is not a model checkpoint ({_first_line(exc)}).") from exc
    return _flatten(loaded, path)


def _refused_pickle(path: Path, exc: pickle.UnpicklingError) -> str:
    """Say in our words why a pickle was refused: it names code to run (a global), or it is no pickle."""
    if "Unsupported global" in str(exc) or "Unsupported class" in str(exc):
        return (
            f"{path} holds Python code or objects besides weights, so Photosift did not load it: use a "
            "checkpoint from a source you trust, saved as weights only (a state dict or safetensors)."
        )
    return f"{path} is not a model checkpoint (its contents are not a saved state dict)."


def _looks_like_safetensors(path: Path) -> bool:
    """True if the file starts like safetensors: a little-endian u64 header size, then a JSON object."""
    with path.open("rb") as f:
        head = f.read(9)
    if len(head) < 9:
        return False
    header_size = int.from_bytes(head[:8], "little")
    return head[8:9] == b"{" and 0 < header_size < path.stat().st_size


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _flatten(loaded: object, path: Path) -> dict[str, torch.Tensor]:
    for key in WRAPPER_KEYS:
        if isinstance(loaded, Mapping) and isinstance(loaded.get(key), Mapping):
            loaded = loaded[key]
            break
    if not isinstance(loaded, Mapping) or not loaded:
        raise ModelError(f"{path} is not a model checkpoint (it holds no state dict).")
    state: dict[str, torch.Tensor] = {}
    for key, value in loaded.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise ModelError(f"{path} is not a model checkpoint (the entry {key!r} is not a tensor).")
        state[_strip_prefixes(key)] = value
    return state


def _strip_prefixes(key: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for prefix in STRIP_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix) :]
                stripped = True
    return key


def apply_state_dict(model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], spec_name: str) -> None:
    """Load `state_dict` into `model` strictly: every key present, no extra keys, every shape equal.

    One-element tensors whose shape differs only in dimensions (open_clip's `logit_scale` was 1-d in
    some versions and 0-d in others) are reshaped rather than refused.

    Raises:
        ModelError: the checkpoint does not fit; the message counts and names the offending keys.
    """
    expected = model.state_dict()
    fitted = {key: _fit_scalar(value, expected.get(key)) for key, value in state_dict.items()}
    missing = [key for key in expected if key not in fitted]
    unexpected = [key for key in fitted if key not in expected]
    wrong_shape = [key for key in fitted if key in expected and fitted[key].shape != expected[key].shape]
    problems = [
        _summary(missing, "missing key", "missing keys"),
        _summary(unexpected, "unexpected key", "unexpected keys"),
        _summary([_shapes(k, fitted, expected) for k in wrong_shape], "wrong shape", "wrong shapes"),
    ]
    summary = "; ".join(p for p in problems if p)
    if summary:
        raise ModelError(f"The checkpoint does not fit {spec_name}: {summary}.")
    _check_finite(fitted, spec_name)
    try:
        model.load_state_dict(fitted, strict=True)
    except RuntimeError as exc:  # dtype casts that cannot happen (complex into float, say)
        raise ModelError(f"The checkpoint does not fit {spec_name} ({_first_line(exc)}).") from exc


def _check_finite(state_dict: Mapping[str, torch.Tensor], spec_name: str) -> None:
    """Refuse weights holding NaN or infinity: a model built from them embeds every photo as NaN, which
    then fails every search and every indexing run rather than this one import."""
    broken = [
        key
        for key, value in state_dict.items()
        if value.is_floating_point() or value.is_complex()
        if not bool(torch.isfinite(value).all())
    ]
    if broken:
        raise ModelError(
            f"The checkpoint for {spec_name} is damaged: {len(broken)} of its tensors ({', '.join(broken[:3])}) "
            "hold values that are not numbers (NaN or infinity), so it was not used."
        )


def _fit_scalar(value: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    if target is not None and value.shape != target.shape and value.numel() == 1 == target.numel():
        return value.reshape(target.shape)
    return value


def _summary(items: list[str], one: str, many: str) -> str:
    if not items:
        return ""
    return f"{len(items)} {one if len(items) == 1 else many}, e.g. {', '.join(items[:3])}"


def _shapes(key: str, given: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor]) -> str:
    return f"{key} (checkpoint {list(given[key].shape)}, model {list(expected[key].shape)})"
