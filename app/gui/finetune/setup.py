"""Writing a run folder from the wizard's choices: the labels manifest, the caption file and the settings
the trainer is started with. Runs on the task runner (it reads the catalog and writes files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from photosift.app.gui.finetune.caption_sources import (
    UserWords,
    bundled_captions,
    read_caption_file,
    user_terms,
    write_caption_file,
)
from photosift.app.gui.finetune.runs import CAPTIONS_FILE, MANIFEST_FILE, SETTINGS_FILE, RunRecord, save_record
from photosift.core.errors import EnvironmentFault
from photosift.core.training_sets import LabelledSet, ManifestPlace, write_manifest
from photosift.training.config import TrainConfig, load_config


@dataclass(frozen=True)
class CaptionChoice:
    """Which caption sources to add to the class names (see caption_sources)."""

    bundled: bool = True
    user_words: bool = True
    caption_file: Path | None = None


class RunSources(ManifestPlace, UserWords, Protocol):
    """What a run's inputs are written from (`core.library.Library`): the manifest's files and the user's words."""


def prepare_run(
    library: RunSources, labelled: LabelledSet, config: TrainConfig, record: RunRecord, captions: CaptionChoice
) -> TrainConfig:
    """Write the run folder's inputs and return the config that points at them.

    Raises:
        UserError: the caption file cannot be read.
        EnvironmentFault: the run folder cannot be written.
    """
    save_record(record)
    manifest = write_manifest(library, labelled, record.file(MANIFEST_FILE))
    lines = [
        *(bundled_captions() if captions.bundled else []),
        *(read_caption_file(captions.caption_file) if captions.caption_file else []),
    ]
    caption_file = record.file(CAPTIONS_FILE)
    if lines:
        write_caption_file(caption_file, lines)
    else:
        caption_file.unlink(missing_ok=True)
    config = config.replace(
        data=str(manifest),
        output=str(record.run_dir),
        name=record.name,
        caption_file=str(caption_file) if lines else "",
        extra_terms=tuple(user_terms(library)) if captions.user_words else (),
    )
    save_settings(record, config)
    return config


def save_settings(record: RunRecord, config: TrainConfig) -> None:
    """The settings the trainer starts with (`--config`); rewritten when the user retries with others.

    Raises:
        EnvironmentFault: the file cannot be written.
    """
    try:
        record.file(SETTINGS_FILE).write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    except OSError as exc:
        raise EnvironmentFault(
            f"Could not write the run settings in {record.run_dir} ({exc.strerror or exc})."
        ) from exc


def load_settings(record: RunRecord) -> TrainConfig:
    """The settings a run was started with (to retry it with changes after a restart).

    Raises:
        UserError: the file is missing or damaged.
    """
    return load_config(record.file(SETTINGS_FILE), {})
