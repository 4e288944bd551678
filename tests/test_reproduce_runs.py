"""The MCIP reproduction's runs (benchmarks/reproduce/finetune.py), as `--quick` makes them: spread over
worker processes, and mcip + re-alignment continuing the mcip run of its seed instead of repeating it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_mcip_with_realignment_continues_the_mcip_run_in_another_process(shared_data: Path, tmp_path: Path) -> None:
    if not (shared_data / "tiny-imagenet-train").is_dir():
        pytest.skip("the reproduction's training photos are not in the shared data")
    out = tmp_path / "table.json"
    command = [sys.executable, "reproduce_mcip.py", "--quick", "--methods", "mcip,mcip+re-a", "--jobs", "2"]
    command += ["--cache", str(tmp_path / "cache"), "--out", str(out)]
    done = subprocess.run(command, cwd=REPO / "benchmarks", capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    log = done.stdout
    assert "mcip s0 stage a step" in log  # the mcip run trains
    assert "mcip+re-a s0 resumed" in log and "mcip+re-a s0 stage a step" not in log  # re-a continues it
    assert "mcip+re-a s0 stage b step" in log  # and re-aligns
    table = json.loads(out.read_text())["table"]
    for column in ("mAP seen", "mAP unseen", "kNN seen"):  # the image tower is the mcip run's
        assert table["mcip+re-a"][column]["values"] == table["mcip"][column]["values"]
    runs = {p.name.split("-s0-")[0] for p in (tmp_path / "cache" / "quick" / "runs").iterdir()}
    assert runs == {"repro-mcip", "repro-mcip-re-a"}
