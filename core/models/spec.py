"""Model specs: which open_clip architecture, which weights, and how to preprocess photos for it.

Specs are data (`resources/models/*.json` for the built-in models, `Paths.user_specs` for imported ones)
so that adding a model never needs code. This module only reads and writes them (each field's checks
are in `spec_fields`); it imports no torch.
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
from photosift.core.models import spec_fields as check
from photosift.core.models.spec_fields import FieldError
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
    def called(self) -> str:
        """How a sentence names the model: "SigLIP 2 ViT-B/16 model", or the title alone where it already
        ends in "model" (an imported checkpoint named "holiday model" is not "the holiday model model")."""
        return self.title if self.title.lower().endswith("model") else f"{self.title} model"

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
    except FieldError as exc:
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


def _parse(raw: Mapping[str, Any], path: Path) -> ModelSpec:
    known = {field.name for field in fields(ModelSpec)} - {"path"}  # the JSON keys are the field names
    unknown = sorted(set(raw) - known)
    if unknown:
        raise FieldError(f"unknown field {unknown[0]!r}")
    name = check.value(raw, "name", str)
    if not NAME_PATTERN.fullmatch(name):
        raise FieldError(f"'name' must be lowercase letters, digits, '.', '_' or '-', not {name!r}")
    architecture = check.value(raw, "architecture", str)
    image_size = check.positive_int(raw, "image_size")
    spec = ModelSpec(
        name=name,
        title=check.value(raw, "title", str, name),
        description=check.value(raw, "description", str, ""),
        architecture=architecture,
        open_clip_config=check.architecture_config(raw, path.parent, architecture),
        pretrained=check.value(raw, "pretrained", str, None),
        weights=_weights(raw),
        checkpoint=check.path(raw, "checkpoint", path.parent),
        random_init=check.value(raw, "random_init", bool, False),
        sha256=check.sha256(raw),
        embed_dim=check.positive_int(raw, "embed_dim"),
        image_size=image_size,
        resize=check.resize(raw, image_size),
        resize_mode=cast(ResizeMode, check.choice(raw, "resize_mode", RESIZE_MODES, "shortest")),
        interpolation=cast(Interpolation, check.choice(raw, "interpolation", INTERPOLATIONS, "bicubic")),
        mean=check.triple(raw, "mean"),
        std=check.triple(raw, "std", positive=True),
        download_mb=float(check.value(raw, "download_mb", (int, float), 0)),
        default_for=check.device_kinds(raw, DEVICE_KINDS),
        indexing_speed=check.indexing_speed(raw, DEVICE_KINDS),
        **{key: check.value(raw, key, str, "") for key in CATALOGUE_TEXTS},
        files_folder=check.value(raw, "files_folder", str, None),
        files=_files(raw),
        path=path,
    )
    if (spec.files_folder is None) != (not spec.files):
        raise FieldError("'files' and 'files_folder' go together: the files are kept in that folder")
    if sum([spec.weights is not None, spec.checkpoint is not None, spec.random_init]) != 1:
        raise FieldError("it must name exactly one of 'weights', 'checkpoint' or 'random_init': true")
    return spec


def _weights(raw: Mapping[str, Any]) -> WeightsSource | None:
    value = check.value(raw, "weights", dict, None)
    if value is None:
        return None
    if set(value) - {"urls", "filename"}:
        raise FieldError("'weights' may hold only 'urls' and 'filename'")
    urls = check.urls(value.get("urls"), "'weights.urls'")
    return WeightsSource(urls=urls, filename=check.file_name(value.get("filename"), "'weights.filename'"))


def _files(raw: Mapping[str, Any]) -> tuple[ModelFile, ...]:
    found = []
    for index, value in enumerate(check.value(raw, "files", list, [])):
        where = f"'files[{index}]'"
        if not isinstance(value, dict) or set(value) - {"name", "urls", "sha256"}:
            raise FieldError(f"{where} must be an object with 'name', 'urls' and optionally 'sha256'")
        urls = check.urls(value.get("urls"), f"{where}.urls")
        name = check.file_name(value.get("name"), f"{where}.name")
        found.append(ModelFile(name=name, urls=urls, sha256=check.sha256(value)))
    return tuple(found)


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
