"""`python -m photosift.training --plan`: the split, caption coverage and speed a run would get, without training."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_colour_classes
from test_training import FAST, events

from photosift.training.__main__ import main


def test_plan_reports_split_coverage_and_speed_and_writes_nothing(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = make_colour_classes(tmp_path / "classes", per_class=5)
    assert main(["--data", str(photos), "--plan", "--name", "planned", *FAST]) == 0
    log = events(capsys.readouterr().out)
    kinds = [e["event"] for e in log if e["event"] != "progress"]
    assert kinds == ["plan", "eval", "speed", "captions", "caption_coverage", "plan_done"]
    plan = log[0]
    assert (plan["train"], plan["validation"]) == (12, 3)
    assert plan["classes"] == [{"name": c, "train": 4, "validation": 1} for c in ("blue", "green", "red")]
    held_out = plan["held_out"]
    assert isinstance(held_out, list) and {h["label"] for h in held_out} == {"blue", "green", "red"}
    assert all(Path(h["path"]).parent.name == h["label"] for h in held_out)
    (speed,) = [e for e in log if e["event"] == "speed"]
    assert float(speed["images_per_second"]) > 0 and speed["device"] == "cpu"  # type: ignore[arg-type]
    (coverage,) = [e for e in log if e["event"] == "caption_coverage"]
    classes = coverage["classes"]
    assert isinstance(classes, list) and [c["total"] for c in classes] == [4, 4, 4]
    (captions,) = [e for e in log if e["event"] == "captions"]
    covered = sum(c["covered"] for c in classes)
    assert covered == round(float(captions["coverage"]) * 12)  # type: ignore[arg-type]
    assert len(coverage["examples"]) == 3  # type: ignore[arg-type]
    assert not (home / "runs" / "planned").exists()


def test_plan_refuses_bad_data_like_a_run(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(tmp_path / "missing"), "--plan", *FAST]) == 1
    (error,) = [e for e in events(capsys.readouterr().out) if e["event"] == "error"]
    assert error["kind"] == "user"
