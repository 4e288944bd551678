"""Where Photosift keeps its data, and the user's settings.

Everything Photosift writes lives under one of two roots: platformdirs' per-user data folder, or the
folder named by the `PHOTOSIFT_HOME` environment variable (tests and portable installs use it so they
never touch the real user directories). Photo folders themselves are never written to.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import platformdirs

from photosift.core.atomic import write_text
from photosift.core.errors import UserError

HOME_ENV = "PHOTOSIFT_HOME"
SETTINGS_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Paths:
    """The folders and files Photosift owns."""

    root: Path

    @classmethod
    def default(cls) -> Paths:
        """Resolve the data root: `$PHOTOSIFT_HOME` if set, else the platform's user data folder."""
        override = os.environ.get(HOME_ENV)
        if override:
            return cls(Path(override).expanduser().resolve())
        return cls(Path(platformdirs.user_data_dir("photosift", appauthor=False)))

    @property
    def database(self) -> Path:
        return self.root / "catalog.sqlite3"

    @property
    def indexes(self) -> Path:
        return self.root / "indexes"

    @property
    def models(self) -> Path:
        """Downloaded and imported weights, plus user model specs under `specs/`."""
        return self.root / "models"

    @property
    def user_specs(self) -> Path:
        return self.models / "specs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def labels(self) -> Path:
        """Label manifests written for training runs (core.labels); runs read them again on --resume."""
        return self.root / "labels"

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.json"

    def ensure(self) -> None:
        """Create the folders (never the photo folders: those are the user's)."""
        for folder in (self.root, self.indexes, self.models, self.user_specs, self.cache, self.logs):
            folder.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class Settings:
    """User preferences that the core needs. UI-only state (window geometry) lives in `app/`.

    Attributes:
        model: name of the active model spec, or None to pick the default for this machine's hardware.
        device: "auto", "cpu", "cuda" or "mps".
        cpu_runtime: on a CPU, "auto" runs the model on onnxruntime once its export reproduced torch
            (faster: see the README's performance section), "int8" the same with the image tower's weights
            quantised to int8 (about twice as fast again on CPUs with VNNI, embeddings within a few per
            cent), "torch" always on torch; GPUs always run torch.
        decode_workers: threads that decode and preprocess photos ahead of the model; 0 means automatic.
        batch_size: photos per model forward pass; 0 means automatic (larger on GPU).
        excluded_folders: folder paths whose subtrees the scanner skips.
        watch_polling: use a polling observer (network shares) instead of native file events.
        hide_duplicates: the window's searches leave out photos marked as near-duplicates (core.duplicates).
        ocr: which photos have their text read after indexing (core.ocr.gate): "likely" (those the gate
            picks from their embedding), "all", or "off".
    """

    schema_version: int = SETTINGS_SCHEMA_VERSION
    model: str | None = None
    device: str = "auto"
    cpu_runtime: str = "auto"
    decode_workers: int = 0
    batch_size: int = 0
    excluded_folders: tuple[str, ...] = field(default_factory=tuple)
    watch_polling: bool = False
    hide_duplicates: bool = False
    ocr: str = "likely"

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(paths: Paths) -> Settings:
    """Read the settings file, falling back to defaults for anything missing.

    Unknown keys (from a newer version) are ignored rather than fatal, so a downgrade still starts.
    """
    try:
        raw = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        raise UserError(f"The settings file {paths.settings_file} could not be read ({exc}).") from exc
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in raw.items() if k in known}
    if "excluded_folders" in values:
        values["excluded_folders"] = tuple(values["excluded_folders"])
    values["schema_version"] = SETTINGS_SCHEMA_VERSION
    return Settings(**values)


def save_settings(paths: Paths, settings: Settings) -> None:
    """Write the settings atomically (a crash mid-write leaves the old file intact)."""
    write_text(paths.settings_file, json.dumps(asdict(settings), indent=2), "the settings")
