"""Model specs: which open_clip architecture, which weights, and how to preprocess photos for it.

Specs are data (`resources/models/*.json` for the built-in models, `Paths.user_specs` for imported ones)
so that adding a model never needs code. This module only reads and writes them; it imports no torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, cast

from photosift.core.atomic import write_text
from photosift.core.errors import ModelError
from photosift.core.settings import Paths

DEVICE_KINDS = ("cuda", "mps", "cpu")
RESIZE_MODES = ("squash", "shortest")
INTERPOLATIONS = ("bicubic", "bilinear")
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
CATALOGUE_TEXTS = ("summary", "details", "licence", "languages")  # optional plain-text fields, "" when absent

ResizeMode = Literal["squash", "shortest"]
Interpolation = Literal["bicubic", "bilinear"]


@dataclass(frozen=True)
class WeightsSource:
    """Where to download one full state-dict file, and the name to keep it under in `Paths.models`.

    Attributes:
        urls: alternative addresses of the same file, tried in order until one works.
        filename: the local file name; its format is detected from the content, not the extension,
            because the alternatives may differ in format (safetensors first, a pickle as fallback).
    """

    urls: tuple[str, ...]
    filename: str


@dataclass(frozen=True)
class ModelFile:
    """One file besides the weights that a model needs (a tokenizer file, a text tower's config).

    Attributes:
        name: the plain file name inside the spec's `files_folder`.
        urls: alternative addresses of the same file, tried in order.
        sha256: hex digest when known; a download that does not match is refused.
    """

    name: str
    urls: tuple[str, ...]
    sha256: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """One embedding model, as the rest of Photosift sees it.

    Exactly one of `weights`, `checkpoint` and `random_init` says where the weights come from. Paths
    are absolute: `load_spec` resolves them against the spec file's folder.

    Attributes:
        name: unique short id, used on the command line and in settings.
        title: human name for the UI.
        description: one or two sentences for the UI.
        architecture: the open_clip model name.
        open_clip_config: an open_clip architecture JSON for architectures open_clip does not ship;
            open_clip registers it under its file stem, which must equal `architecture`.
        pretrained: the open_clip pretrained tag the weights correspond to, for information only.
        weights: download source of the full state dict.
        checkpoint: a local state-dict file (imported or fine-tuned models).
        random_init: deterministic random weights; only for tests.
        embed_dim: size of the embedding vectors.
        image_size: side of the square the model sees.
        resize: pixels to resize to before the center crop to `image_size`.
        resize_mode: "squash" resizes both sides to `resize`, "shortest" the shorter side keeping aspect.
        interpolation: resampling filter for the resize.
        mean: per-channel normalisation mean, RGB, on the 0..1 scale.
        std: per-channel normalisation standard deviation.
        download_mb: approximate download size, for the UI.
        default_for: device kinds ("cuda", "mps", "cpu") this model is the default for.
        sha256: hex digest of the weights file when known: downloads are verified against it, and it
            identifies the weights in `key` better than a file name can.
        indexing_speed: photos a second measured on reference hardware, as (device kind, rate) pairs in
            `DEVICE_KINDS` order; a UI hint, so left out of `key`. A kind nobody measured is absent:
            the UI says "not measured" rather than show a guess.
        summary: the model's place in the catalogue, in plain words ("Fast, works on any computer");
            defaults to `title`.
        details: architecture and weights for those who know them; defaults to both names.
        licence: the weights' licence as an SPDX id ("Apache-2.0"), or "" when the spec does not say.
        languages: the languages its text search understands, in plain words ("English",
            "more than 100 languages"), or "" when the spec does not say.
        files_folder: the folder holding `files`, relative to `Paths.models` (or absolute); the Hugging
            Face tokenizer (and a Hugging Face text tower's config) is read from there, never from a hub.
        files: the files besides the weights that the model needs, all downloaded into `files_folder`.
        path: the spec file this was read from, if any.
    """

    name: str
    title: str
    description: str
    architecture: str
    open_clip_config: Path | None
    pretrained: str | None
    weights: WeightsSource | None
    checkpoint: Path | None
    random_init: bool
    embed_dim: int
    image_size: int
    resize: int
    resize_mode: ResizeMode
    interpolation: Interpolation
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    download_mb: float
    default_for: tuple[str, ...]
    sha256: str | None = None
    indexing_speed: tuple[tuple[str, float], ...] = ()
    summary: str = ""
    details: str = ""
    licence: str = ""
    languages: str = ""
    files_folder: str | None = None
    files: tuple[ModelFile, ...] = ()
    path: Path | None = None

    @property
    def key(self) -> str:
        """A stable id of everything that shapes the embeddings: architecture, weights, preprocessing.

        The database stores it with every embedding, so vectors of two models (or of one model
        preprocessed two ways) are never compared with each other. Title, description and download
        hints are left out so editing them does not invalidate an index.
        """
        identity = {
            "architecture": self.architecture,
            "weights": self._weights_identity(),
            "preprocess": [self.image_size, self.resize, self.resize_mode, self.interpolation, self.mean, self.std],
        }
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
        return f"{self.name}@{digest[:12]}"

    def _weights_identity(self) -> str:
        if self.sha256:
            return f"sha256:{self.sha256}"
        if self.weights is not None:
            return f"file:{self.weights.filename}"
        if self.checkpoint is not None:
            return f"file:{self.checkpoint.name}"
        return "random-init"

    def speed_on(self, device_kind: str) -> float | None:
        """The measured indexing speed (photos a second) on `device_kind`, or None if never measured."""
        return dict(self.indexing_speed).get(device_kind)

    def weights_file(self, paths: Paths) -> Path | None:
        """The local file the weights load from (it may still need downloading), or None for random init."""
        if self.checkpoint is not None:
            return self.checkpoint
        if self.weights is not None:
            return paths.models / self.weights.filename
        return None


def load_spec(path: Path) -> ModelSpec:
    """Read a spec file.

    Raises:
        ModelError: the file is missing, is not JSON, or a field is missing or invalid; the message
            names the file and the field.
    """
    path = Path(path).expanduser().resolve()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"The model spec {path} does not exist.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"The model spec {path} could not be read ({exc}).") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"The model spec {path} is not valid JSON ({exc}).") from exc
    if not isinstance(raw, dict):
        raise ModelError(f"The model spec {path} must hold a JSON object.")
    try:
        return _parse(raw, path)
    except _FieldError as exc:
        raise ModelError(f"The model spec {path} is invalid: {exc}.") from None


def dump_spec(spec: ModelSpec, path: Path) -> None:
    """Write `spec` to `path` atomically, with file paths relative to the spec's folder where possible."""
    folder = path.parent
    data: dict[str, Any] = {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "architecture": spec.architecture,
    }
    if spec.open_clip_config is not None:
        data["open_clip_config"] = _relative(spec.open_clip_config, folder)
    if spec.pretrained is not None:
        data["pretrained"] = spec.pretrained
    if spec.weights is not None:
        data["weights"] = {"urls": list(spec.weights.urls), "filename": spec.weights.filename}
    if spec.checkpoint is not None:
        data["checkpoint"] = _relative(spec.checkpoint, folder)
    if spec.random_init:
        data["random_init"] = True
    if spec.sha256 is not None:
        data["sha256"] = spec.sha256
    data |= {
        "embed_dim": spec.embed_dim,
        "image_size": spec.image_size,
        "resize": spec.resize,
        "resize_mode": spec.resize_mode,
        "interpolation": spec.interpolation,
        "mean": list(spec.mean),
        "std": list(spec.std),
        "download_mb": spec.download_mb,
        "default_for": list(spec.default_for),
    }
    if spec.indexing_speed:
        data["indexing_speed"] = dict(spec.indexing_speed)
    data |= {key: getattr(spec, key) for key in CATALOGUE_TEXTS if getattr(spec, key)}
    if spec.files_folder is not None:
        data["files_folder"] = spec.files_folder
        data["files"] = [_file_json(file) for file in spec.files]
    write_text(path, json.dumps(data, indent=2) + "\n", f"the model spec {path.name}")


class _FieldError(Exception):
    """A field of a spec is missing or invalid; the message names it."""


def _parse(raw: Mapping[str, Any], path: Path) -> ModelSpec:
    known = {field.name for field in fields(ModelSpec)} - {"path"}  # the JSON keys are the field names
    unknown = sorted(set(raw) - known)
    if unknown:
        raise _FieldError(f"unknown field {unknown[0]!r}")
    name = _get(raw, "name", str)
    if not NAME_PATTERN.fullmatch(name):
        raise _FieldError(f"'name' must be lowercase letters, digits, '.', '_' or '-', not {name!r}")
    architecture = _get(raw, "architecture", str)
    image_size = _positive_int(raw, "image_size")
    spec = ModelSpec(
        name=name,
        title=_get(raw, "title", str, name),
        description=_get(raw, "description", str, ""),
        architecture=architecture,
        open_clip_config=_architecture_config(raw, path.parent, architecture),
        pretrained=_get(raw, "pretrained", str, None),
        weights=_weights(raw),
        checkpoint=_path(raw, "checkpoint", path.parent),
        random_init=_get(raw, "random_init", bool, False),
        sha256=_sha256(raw),
        embed_dim=_positive_int(raw, "embed_dim"),
        image_size=image_size,
        resize=_resize(raw, image_size),
        resize_mode=cast(ResizeMode, _choice(raw, "resize_mode", RESIZE_MODES, "shortest")),
        interpolation=cast(Interpolation, _choice(raw, "interpolation", INTERPOLATIONS, "bicubic")),
        mean=_triple(raw, "mean"),
        std=_triple(raw, "std", positive=True),
        download_mb=float(_get(raw, "download_mb", (int, float), 0)),
        default_for=_default_for(raw),
        indexing_speed=_indexing_speed(raw),
        **{key: _get(raw, key, str, "") for key in CATALOGUE_TEXTS},
        files_folder=_get(raw, "files_folder", str, None),
        files=_files(raw),
        path=path,
    )
    if (spec.files_folder is None) != (not spec.files):
        raise _FieldError("'files' and 'files_folder' go together: the files are kept in that folder")
    if sum([spec.weights is not None, spec.checkpoint is not None, spec.random_init]) != 1:
        raise _FieldError("it must name exactly one of 'weights', 'checkpoint' or 'random_init': true")
    return spec


def _get(raw: Mapping[str, Any], key: str, kind: type | tuple[type, ...], *default: Any) -> Any:
    """The value of `key`, checked against `kind`; `default` (when given) stands in for a missing key."""
    if key not in raw:
        if default:
            return default[0]
        raise _FieldError(f"the field {key!r} is missing")
    value = raw[key]
    # bool is an int subclass: `"embed_dim": true` must not pass as 1.
    if isinstance(value, bool) and kind is not bool:
        raise _FieldError(f"{key!r} must not be true or false")
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise _FieldError(f"{key!r} must be of type {names}, not {type(value).__name__}")
    return value


def _positive_int(raw: Mapping[str, Any], key: str) -> int:
    value: int = _get(raw, key, int)
    if value <= 0:
        raise _FieldError(f"{key!r} must be positive")
    return value


def _resize(raw: Mapping[str, Any], image_size: int) -> int:
    if "resize" not in raw:
        return image_size
    resize = _positive_int(raw, "resize")
    if resize < image_size:
        raise _FieldError(f"'resize' ({resize}) must be at least 'image_size' ({image_size}), or the crop would pad")
    return resize


def _choice(raw: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value: str = _get(raw, key, str, default)
    if value not in choices:
        raise _FieldError(f"{key!r} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _triple(raw: Mapping[str, Any], key: str, positive: bool = False) -> tuple[float, float, float]:
    value = _get(raw, key, list)
    if len(value) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise _FieldError(f"{key!r} must be a list of three numbers (R, G, B)")
    if positive and min(value) <= 0:
        raise _FieldError(f"{key!r} must be positive")
    return (float(value[0]), float(value[1]), float(value[2]))


def _default_for(raw: Mapping[str, Any]) -> tuple[str, ...]:
    kinds = _get(raw, "default_for", list, [])
    for kind in kinds:
        if kind not in DEVICE_KINDS:
            raise _FieldError(f"'default_for' may hold only {', '.join(DEVICE_KINDS)}, not {kind!r}")
    return tuple(kinds)


def _indexing_speed(raw: Mapping[str, Any]) -> tuple[tuple[str, float], ...]:
    speeds = _get(raw, "indexing_speed", dict, {})
    for kind, rate in speeds.items():
        if kind not in DEVICE_KINDS:
            raise _FieldError(f"'indexing_speed' may hold only {', '.join(DEVICE_KINDS)}, not {kind!r}")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0:
            raise _FieldError(f"'indexing_speed.{kind}' must be a positive number of photos a second")
    return tuple((kind, float(speeds[kind])) for kind in DEVICE_KINDS if kind in speeds)


def _sha256(raw: Mapping[str, Any]) -> str | None:
    value: str | None = _get(raw, "sha256", str, None)
    if value is not None and not re.fullmatch(r"[0-9a-f]{64}", value):
        raise _FieldError("'sha256' must be 64 lowercase hex digits")
    return value


def _path(raw: Mapping[str, Any], key: str, folder: Path) -> Path | None:
    value: str | None = _get(raw, key, str, None)
    if value is None:
        return None
    return (folder / Path(value).expanduser()).resolve()


def _architecture_config(raw: Mapping[str, Any], folder: Path, architecture: str) -> Path | None:
    config = _path(raw, "open_clip_config", folder)
    if config is None:
        return None
    if not config.is_file():
        raise _FieldError(f"the architecture config {config} does not exist")
    # open_clip registers a config under its file stem, so that is the name the model is built by.
    if config.stem != architecture:
        raise _FieldError(f"'architecture' must be {config.stem!r}, the stem of 'open_clip_config'")
    return config


def _weights(raw: Mapping[str, Any]) -> WeightsSource | None:
    value = _get(raw, "weights", dict, None)
    if value is None:
        return None
    if set(value) - {"urls", "filename"}:
        raise _FieldError("'weights' may hold only 'urls' and 'filename'")
    urls = _urls(value.get("urls"), "'weights.urls'")
    filename = value.get("filename")
    if not isinstance(filename, str) or not filename or Path(filename).name != filename:
        raise _FieldError("'weights.filename' must be a plain file name")
    return WeightsSource(urls=urls, filename=filename)


def _files(raw: Mapping[str, Any]) -> tuple[ModelFile, ...]:
    found = []
    for index, value in enumerate(_get(raw, "files", list, [])):
        where = f"'files[{index}]'"
        if not isinstance(value, dict) or set(value) - {"name", "urls", "sha256"}:
            raise _FieldError(f"{where} must be an object with 'name', 'urls' and optionally 'sha256'")
        name, urls = value.get("name"), _urls(value.get("urls"), f"{where}.urls")
        if not isinstance(name, str) or not name or Path(name).name != name:
            raise _FieldError(f"{where}.name must be a plain file name")
        found.append(ModelFile(name=name, urls=urls, sha256=_sha256(value)))
    return tuple(found)


def _urls(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(u, str) and "://" in u for u in value):
        raise _FieldError(f"{where} must be a non-empty list of URLs")
    return tuple(value)


def _file_json(file: ModelFile) -> dict[str, Any]:
    data: dict[str, Any] = {"name": file.name, "urls": list(file.urls)}
    if file.sha256 is not None:
        data["sha256"] = file.sha256
    return data


def _relative(target: Path, folder: Path) -> str:
    """`target` relative to `folder` when both live under the same data folder, so it can move; else absolute."""
    if target.is_relative_to(folder.parent):
        return os.path.relpath(target, folder)
    return str(target)
