"""Model weights: downloading them (or installing a file fetched by hand), and loading state dicts without
ever running code from the file.

Checkpoints are untrusted data (a user may import any file), so pickles load with
`torch.load(weights_only=True)` and safetensors files with safetensors; every failure becomes a
`ModelError` that says what was wrong, never a traceback from deep inside torch.
"""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import safetensors.torch
import torch

from core.errors import EnvironmentFault, ModelDownloadError, ModelError
from core.models.build import build_model
from core.models.spec import ModelSpec
from core.progress import CancelToken, Progress, ProgressCallback
from core.settings import Paths

CHUNK_BYTES = 1 << 20  # 1 MiB: large enough for fast links, small enough to notice a cancel within a second
TIMEOUT_S = 30  # per connect and per read: a stalled server fails the URL instead of hanging forever
REPORT_INTERVAL_S = 0.2  # progress reports per second stay readable in a status line
USER_AGENT = "Photosift"  # some servers refuse urllib's default agent
WRAPPER_KEYS = ("state_dict", "model")  # training scripts nest the weights under one of these
STRIP_PREFIXES = ("module.", "_orig_mod.")  # DataParallel/DDP and torch.compile wrappers


class _UrlFailed(Exception):
    """One URL failed; the message is a short reason ("HTTP 404 Not Found")."""


def download(
    urls: Iterable[str],
    dest: Path,
    progress: ProgressCallback,
    cancel: CancelToken | None = None,
    *,
    model_name: str | None = None,
    sha256: str | None = None,
) -> Path:
    """Download one file from the first of `urls` that works and move it to `dest` once complete.

    The data streams into `dest` + ".part", so an interrupted download never looks finished.

    Args:
        urls: alternative addresses of the same file, tried in order.
        dest: where the file ends up.
        progress: receives `Progress(stage="download")` in bytes, ending with done == total.
        cancel: checked between chunks; cancelling deletes the partial file.
        model_name: names the model in the error message (default: the file name).
        sha256: expected hex digest; a mismatch counts as a failure of that URL.

    Raises:
        ModelDownloadError: every URL failed; the message gives the reasons, a URL to fetch by hand and
            the exact path to save the file at.
        EnvironmentFault: the partial file could not be written (disk full, permissions).
        Cancelled: `cancel` was set.
    """
    url_list = list(urls)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_suffix(dest.suffix + ".part")
    failures = []
    try:
        for url in url_list:
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                _fetch(url, part, progress, cancel, sha256)
            except _UrlFailed as exc:
                failures.append(f"{url}: {exc}")
            else:
                part.replace(dest)
                return dest
    finally:
        # After a success the partial file has been renamed away; after anything else it must go.
        part.unlink(missing_ok=True)
    raise ModelDownloadError(_failure_message(model_name or dest.name, url_list, failures, dest))


def _failure_message(model_name: str, urls: list[str], failures: list[str], dest: Path) -> str:
    tried = f"Tried {'; '.join(failures)}." if failures else "No download address is known."
    by_hand = f"download {urls[0]} in a browser and save it as {dest}" if urls else f"place the file at {dest}"
    return (
        f"The {model_name} model could not be downloaded. {tried} To install it by hand, {by_hand}, "
        f"or import a checkpoint with `photosift models import`."
    )


def _fetch(url: str, part: Path, progress: ProgressCallback, cancel: CancelToken | None, sha256: str | None) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            if response.headers.get_content_type() == "text/html":  # a login page or captive portal
                raise _UrlFailed("the server sent a web page instead of the file")
            total = _content_length(response.headers.get("Content-Length"))
            digest = _stream(response, part, total, progress, cancel)
    except urllib.error.HTTPError as exc:
        raise _UrlFailed(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _UrlFailed(_network_reason(exc.reason)) from exc
    except TimeoutError as exc:
        raise _UrlFailed("the server stopped answering") from exc
    except (OSError, http.client.HTTPException) as exc:  # resets, TLS errors, truncated responses
        raise _UrlFailed(f"the connection broke off: {exc!r}") from exc
    if sha256 is not None and digest != sha256:
        raise _UrlFailed("the file's checksum does not match, so it is damaged or not the expected file")


def _network_reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "the server did not answer in time; are you offline?"
    if isinstance(reason, OSError):  # refused, no route, name lookup failed
        return f"could not connect, are you offline? {reason}"
    return f"could not connect: {reason}"


def _content_length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _stream(
    response: BinaryIO, part: Path, total: int | None, progress: ProgressCallback, cancel: CancelToken | None
) -> str:
    """Copy `response` into `part`, reporting progress; return the hex sha256 of what was written."""
    digest = hashlib.sha256()
    started = time.monotonic()
    last_report = float("-inf")
    done = 0
    try:
        out = part.open("wb")
    except OSError as exc:
        raise EnvironmentFault(f"Could not write the download to {part} ({exc.strerror or exc}).") from exc
    with out:
        while chunk := response.read(CHUNK_BYTES):
            if cancel is not None:
                cancel.raise_if_cancelled()
            _write(out, chunk, part)
            digest.update(chunk)
            done += len(chunk)
            now = time.monotonic()
            if now - last_report >= REPORT_INTERVAL_S or done == total:
                progress(_report(done, total, now - started, part))
                last_report = now
    if total is not None and done != total:
        raise _UrlFailed(f"the download stopped after {done} of {total} bytes")
    if total is None:
        progress(_report(done, done, time.monotonic() - started, part))
    return digest.hexdigest()


def _write(out: BinaryIO, chunk: bytes, part: Path) -> None:
    try:
        out.write(chunk)
    except OSError as exc:
        raise EnvironmentFault(f"Could not write the download to {part} ({exc.strerror or exc}).") from exc


def _report(done: int, total: int | None, elapsed: float, part: Path) -> Progress:
    rate = done / elapsed if elapsed > 0 else None
    eta = (total - done) / rate if rate and total is not None else None
    name = part.name.removesuffix(".part")
    return Progress(stage="download", done=done, total=total, rate=rate, eta_s=eta, message=name)


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
        raise ModelError(f"The {spec.title} model has no weights file to install.")
    source = Path(source).expanduser()
    _check_fit(source, spec)
    part = dest.with_name(dest.name + ".part")
    try:
        digest = _copy(source, part, cancel)
        if spec.sha256 is not None and digest != spec.sha256:
            raise ModelError(
                f"{source} fits the {spec.title} model but is not the file it expects: its checksum differs."
            )
        part.replace(dest)
    finally:
        part.unlink(missing_ok=True)
    return dest


def _check_fit(source: Path, spec: ModelSpec) -> None:
    """Raise `ModelError` unless `source` loads into the spec's architecture; both are freed on return,
    before a multi-gigabyte copy starts."""
    apply_state_dict(build_model(spec), load_state_dict(source), spec.name)


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
    # Untrusted file: torch and safetensors raise a wide variety of errors on bad input (UnpicklingError
    # for refused objects, RuntimeError for broken archives, EOFError, ValueError, ...). All mean the same.
    except Exception as exc:
        raise ModelError(f"{path} is not a model checkpoint ({_first_line(exc)}).") from exc
    return _flatten(loaded, path)


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
    try:
        model.load_state_dict(fitted, strict=True)
    except RuntimeError as exc:  # dtype casts that cannot happen (complex into float, say)
        raise ModelError(f"The checkpoint does not fit {spec_name} ({_first_line(exc)}).") from exc


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
