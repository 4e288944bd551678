"""The checks each JSON field of a model spec passes on the way in (`core.models.spec.load_spec`).

Every reader returns a plain value or raises `FieldError` with a message that names the field, so that
`load_spec` can say which file and which field is wrong in one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class FieldError(Exception):
    """A field of a spec is missing or invalid; the message names it."""


def value(raw: Mapping[str, Any], key: str, kind: type | tuple[type, ...], *default: Any) -> Any:
    """The value of `key`, checked against `kind`; `default` (when given) stands in for a missing key."""
    if key not in raw:
        if default:
            return default[0]
        raise FieldError(f"the field {key!r} is missing")
    found = raw[key]
    # bool is an int subclass: `"embed_dim": true` must not pass as 1.
    if isinstance(found, bool) and kind is not bool:
        raise FieldError(f"{key!r} must not be true or false")
    if not isinstance(found, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise FieldError(f"{key!r} must be of type {names}, not {type(found).__name__}")
    return found


def positive_int(raw: Mapping[str, Any], key: str) -> int:
    number: int = value(raw, key, int)
    if number <= 0:
        raise FieldError(f"{key!r} must be positive")
    return number


def resize(raw: Mapping[str, Any], image_size: int) -> int:
    if "resize" not in raw:
        return image_size
    side = positive_int(raw, "resize")
    if side < image_size:
        raise FieldError(f"'resize' ({side}) must be at least 'image_size' ({image_size}), or the crop would pad")
    return side


def choice(raw: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    chosen: str = value(raw, key, str, default)
    if chosen not in choices:
        raise FieldError(f"{key!r} must be one of {', '.join(choices)}, not {chosen!r}")
    return chosen


def triple(raw: Mapping[str, Any], key: str, positive: bool = False) -> tuple[float, float, float]:
    numbers = value(raw, key, list)
    if len(numbers) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
        raise FieldError(f"{key!r} must be a list of three numbers (R, G, B)")
    if positive and min(numbers) <= 0:
        raise FieldError(f"{key!r} must be positive")
    return (float(numbers[0]), float(numbers[1]), float(numbers[2]))


def device_kinds(raw: Mapping[str, Any], kinds: tuple[str, ...]) -> tuple[str, ...]:
    """`default_for`: the device kinds a model is the default for, each one of `kinds`."""
    named = value(raw, "default_for", list, [])
    for kind in named:
        if kind not in kinds:
            raise FieldError(f"'default_for' may hold only {', '.join(kinds)}, not {kind!r}")
    return tuple(named)


def indexing_speed(raw: Mapping[str, Any], kinds: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """`indexing_speed`: photos a second by device kind, in the order of `kinds`."""
    speeds = value(raw, "indexing_speed", dict, {})
    for kind, rate in speeds.items():
        if kind not in kinds:
            raise FieldError(f"'indexing_speed' may hold only {', '.join(kinds)}, not {kind!r}")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0:
            raise FieldError(f"'indexing_speed.{kind}' must be a positive number of photos a second")
    return tuple((kind, float(speeds[kind])) for kind in kinds if kind in speeds)


def sha256(raw: Mapping[str, Any]) -> str | None:
    digest: str | None = value(raw, "sha256", str, None)
    if digest is not None and not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise FieldError("'sha256' must be 64 lowercase hex digits")
    return digest


def path(raw: Mapping[str, Any], key: str, folder: Path) -> Path | None:
    """A file named by the spec, relative to the spec's `folder` (or absolute)."""
    named: str | None = value(raw, key, str, None)
    if named is None:
        return None
    return (folder / Path(named).expanduser()).resolve()


def architecture_config(raw: Mapping[str, Any], folder: Path, architecture: str) -> Path | None:
    config = path(raw, "open_clip_config", folder)
    if config is None:
        return None
    if not config.is_file():
        raise FieldError(f"the architecture config {config} does not exist")
    # open_clip registers a config under its file stem, so that is the name the model is built by.
    if config.stem != architecture:
        raise FieldError(f"'architecture' must be {config.stem!r}, the stem of 'open_clip_config'")
    return config


def urls(found: object, where: str) -> tuple[str, ...]:
    if not isinstance(found, list) or not found or not all(isinstance(u, str) and "://" in u for u in found):
        raise FieldError(f"{where} must be a non-empty list of URLs")
    return tuple(found)


def file_name(found: object, where: str) -> str:
    """A plain file name (no folder), as the weights and a model's other files are kept under."""
    if not isinstance(found, str) or not found or Path(found).name != found:
        raise FieldError(f"{where} must be a plain file name")
    return found
