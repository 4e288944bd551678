"""Stage (a)'s resumable checkpoint: written atomically, read back with a sentence when it is damaged.

A crash or a full disk while saving must not cost the run: the new checkpoint is written beside the old
one and replaces it only once complete (`core.atomic`), so `--resume` finds either the previous
checkpoint or the new one. A file that is damaged anyway (copied half, edited, a disk fault) is reported
as damaged with what to do, not as a bug in the trainer.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from photosift.core.atomic import write_bytes
from photosift.core.errors import UserError

CHECKPOINT = "checkpoint.pt"


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Replace `path` with `state` atomically (serialised in memory first: a checkpoint of the tower and
    its optimizer state is a few times the tower's size, which fits wherever training does)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_bytes(path, buffer.getvalue(), "the training checkpoint")


def load_checkpoint(path: Path, device: str) -> dict[str, Any]:
    """The state saved by `save_checkpoint`.

    Raises:
        UserError: the file is damaged (truncated, not a checkpoint, or missing parts).
    """
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError) as exc:
        raise _damaged(path, exc) from exc
    if not isinstance(state, dict) or not {"tower", "arc", "optimizer", "progress"} <= state.keys():
        raise _damaged(path, ValueError("parts of the training state are missing"))
    return state


def _damaged(path: Path, exc: Exception) -> UserError:
    return UserError(
        f"The checkpoint {path} is damaged, so the run cannot resume from it. Delete it to restart the "
        "training stage from the beginning (the base evaluation and captions are kept).",
        details=f"{type(exc).__name__}: {exc}",
    )
