"""The wizard's memory of a fine-tuning run, kept in the run folder so it survives an app restart.

The trainer owns the run folder (`<home>/runs/<name>/`: its config, checkpoints, evaluation, the exported
model); the wizard adds its own inputs there (the labels manifest, the caption file, the settings it
started the run with) and `wizard.json`, which says where the run stands from the GUI's side. On the next
start the wizard looks for runs that were training, stopped or finished but not yet decided on, and
offers to pick them up.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

from photosift.core.atomic import write_text
from photosift.core.errors import EnvironmentFault
from photosift.core.settings import Paths

Status = Literal["prepared", "training", "stopped", "failed", "finished", "activated"]
STATE_FILE = "wizard.json"
SETTINGS_FILE = "settings.yaml"  # the TrainConfig the wizard chose, for `python -m photosift.training --config`
MANIFEST_FILE = "labels.json"
CAPTIONS_FILE = "captions.txt"
LOG_FILE = "train.log"  # everything the trainer wrote, stdout and stderr, across pauses and resumes
PLAN_LOG_FILE = "plan.log"
# Runs worth offering after a restart: one that was interrupted (the app quit or crashed while training),
# paused, or stopped by an error (resuming may get past it; else the user discards it), and one that
# finished while nobody looked at its result.
UNFINISHED: tuple[Status, ...] = ("training", "stopped", "failed", "finished")


@dataclass(frozen=True)
class HeldOut:
    """A photo of the validation split (never trained on) and its class."""

    path: str
    label: str


@dataclass(frozen=True)
class RunRecord:
    """Where a wizard-started run stands.

    Attributes:
        name: the model's name once exported (also the run folder's name).
        base: the model it fine-tunes (the one the library searched with when the run was set up).
        held_out: the validation split as the trainer's plan reported it, for the result page's
            side-by-side comparison.
    """

    run_dir: Path
    name: str
    base: str
    status: Status
    created: str
    held_out: tuple[HeldOut, ...] = ()

    def file(self, name: str) -> Path:
        return self.run_dir / name

    def with_status(self, status: Status) -> RunRecord:
        return replace(self, status=status)


def runs_dir(paths: Paths) -> Path:
    return paths.root / "runs"


def new_record(paths: Paths, name: str, base: str) -> RunRecord:
    return RunRecord(runs_dir(paths) / name, name, base, "prepared", datetime.now().isoformat(timespec="seconds"))


def save_record(record: RunRecord) -> None:
    """Write `wizard.json` atomically.

    Raises:
        EnvironmentFault: the run folder cannot be written (disk full, permissions).
    """
    data = asdict(record) | {"run_dir": str(record.run_dir)}
    target = record.file(STATE_FILE)
    write_text(target, json.dumps(data, indent=2), f"the run record in {record.run_dir}")


def load_record(run_dir: Path) -> RunRecord | None:
    """The record of a run folder, or None if it has none or it cannot be read (a run started from the
    command line, or a damaged file: neither is the wizard's to offer)."""
    try:
        data = json.loads((run_dir / STATE_FILE).read_text(encoding="utf-8"))
        if data["status"] not in get_args(Status):
            return None
        held_out = tuple(HeldOut(str(h["path"]), str(h["label"])) for h in data.get("held_out", ()))
        return RunRecord(run_dir, str(data["name"]), str(data["base"]), data["status"], str(data["created"]), held_out)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def unfinished_runs(paths: Paths) -> list[RunRecord]:
    """Runs to offer on the wizard's first page, newest first."""
    folder = runs_dir(paths)
    records = [load_record(d) for d in sorted(folder.iterdir())] if folder.is_dir() else []
    found = [r for r in records if r is not None and r.status in UNFINISHED]
    return sorted(found, key=lambda r: r.created, reverse=True)


def clear_progress(record: RunRecord) -> None:
    """Delete what the trainer saved (checkpoints, scores, its copy of the settings) but keep the wizard's
    inputs, so the run can start over with new settings: a resumed run must keep its batch size, so
    "try a smaller batch" after running out of memory starts again rather than resuming.

    Raises:
        EnvironmentFault: the files could not be deleted.
    """
    keep = {STATE_FILE, SETTINGS_FILE, MANIFEST_FILE, CAPTIONS_FILE, LOG_FILE, PLAN_LOG_FILE}
    try:
        for path in record.run_dir.iterdir():
            if path.name not in keep:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    except OSError as exc:
        raise EnvironmentFault(f"Could not clear the run folder {record.run_dir} ({exc.strerror or exc}).") from exc


def discard_run(record: RunRecord, paths: Paths) -> None:
    """Delete the run folder and, if the run got as far as exporting, its registered model spec.

    Raises:
        EnvironmentFault: the files could not be deleted.
    """
    try:
        (paths.user_specs / f"{record.name}.json").unlink(missing_ok=True)
        shutil.rmtree(record.run_dir, ignore_errors=False)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise EnvironmentFault(f"Could not delete the run folder {record.run_dir} ({exc.strerror or exc}).") from exc
