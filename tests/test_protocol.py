"""The process protocol (core/protocol.py) is the one list of exit codes and trainer events: every event the
trainer reports is named there, and the wizard reads the same exit codes the trainer returns."""

from __future__ import annotations

import ast
from pathlib import Path

from photosift.core import protocol

TRAINING = Path(__file__).resolve().parents[1] / "training"


def reported_events() -> set[str]:
    """The first argument of every `report(...)` / `runtime.report(...)` call in training/, as written."""
    found: set[str] = set()
    for path in TRAINING.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0]
            if name == "report" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
            elif name == "report" and isinstance(first, ast.Name):
                found.add(getattr(protocol, first.id))
    return found


def test_every_event_the_trainer_reports_is_in_the_protocol() -> None:
    events = reported_events()
    assert {"start", "step", "eval", "done", "error"} <= events  # the walk finds the trainer's calls
    assert events <= protocol.EVENTS, events - protocol.EVENTS


def test_exit_codes_are_distinct_and_shared_by_both_sides() -> None:
    from photosift.app.gui.finetune import problems, process
    from photosift.training import __main__ as trainer

    codes = [getattr(protocol, name) for name in dir(protocol) if name.startswith("EXIT_")]
    assert len(codes) == len(set(codes)) == 7
    assert trainer.EXIT_STOPPED is protocol.EXIT_STOPPED and process.EXIT_STOPPED is protocol.EXIT_STOPPED
    assert problems.EXIT_BUG is protocol.EXIT_BUG
