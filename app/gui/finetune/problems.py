"""What to tell the user when a training process ends badly, and what to offer them.

The trainer says what went wrong in an "error" line (kind user, environment or bug) and its exit code;
a process killed from outside (the system's out-of-memory killer, a driver fault) says nothing and just
dies. The message decides before the kind: running out of GPU memory mid-run surfaces as a torch
exception (kind bug), a full disk as an OSError, and both have a better remedy than "report a bug".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from photosift.app.gui.finetune.process import ProcessEnd
from photosift.core.protocol import EXIT_BUG, EXIT_ENVIRONMENT, EXIT_USER

Action = Literal["resume", "smaller_batch", "quick_preset", "change_settings"]

_OUT_OF_MEMORY = ("out of memory", "fits in gpu memory", "cuda error: out of memory")
_DISK_FULL = ("no space left", "errno 28", "disk full", "disk is full", "not enough space")


@dataclass(frozen=True)
class Problem:
    """A failed run, explained.

    Attributes:
        title: one line, in the user's terms.
        message: what happened and what to do; the trainer's own words where it gave some.
        actions: what the page offers, most useful first.
    """

    title: str
    message: str
    actions: tuple[Action, ...]


def explain(end: ProcessEnd) -> Problem:
    """The problem behind a process end that is neither finished nor stopped."""
    said = str(end.error.get("message", "")) if end.error else ""
    text = f"{said}\n{chr(10).join(end.stderr_tail)}".lower()
    log = f"The full log is kept at {end.log}."
    if end.start_failed:
        return Problem("Training could not start", f"{' '.join(end.stderr_tail)}\n\n{log}", ("resume",))
    if any(phrase in text for phrase in _OUT_OF_MEMORY):
        return Problem(
            "The GPU ran out of memory",
            "Training needs more GPU memory than is free. A smaller batch needs less (training takes a little "
            f"longer); closing other programs that use the GPU also helps.\n\n{said}\n\n{log}",
            ("smaller_batch", "quick_preset"),
        )
    if any(phrase in text for phrase in _DISK_FULL):
        return Problem(
            "The disk is full",
            f"Training could not save its progress. Free some space on the drive that holds {end.log.parent}, "
            f"then resume: it continues from its last checkpoint.\n\n{log}",
            ("resume",),
        )
    if end.exit_code == EXIT_USER:
        return Problem("Training cannot use these photos or settings", f"{said}\n\n{log}", ("change_settings",))
    if end.exit_code == EXIT_ENVIRONMENT:
        return Problem("The computer got in the way of training", f"{said}\n\n{log}", ("resume", "smaller_batch"))
    if end.exit_code == EXIT_BUG:
        return Problem(
            "Training stopped because of a bug in Photosift",
            f"{said}\n\nResuming may get past it; if it happens again, please report it with the log. {log}",
            ("resume",),
        )
    how = "was killed" if end.exit_code is None else f"ended with exit code {end.exit_code}"
    return Problem(
        "The training process stopped unexpectedly",
        f"It {how} without saying why; this often means the computer ran out of memory, and a smaller batch "
        f"helps. It can resume from its last checkpoint.\n\n{log}",
        ("resume", "smaller_batch"),
    )
