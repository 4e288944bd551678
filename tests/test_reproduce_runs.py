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


def test_runs_of_other_trainer_code_are_removed_with_their_specs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A change to `training/` changes every run's key, so the runs the old code made can never be used
    again: they go (with the model specs that point into them); this code's runs, and runs that recorded
    no digest, stay."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    from reproduce import finetune

    from photosift.core.settings import Paths

    paths = Paths(tmp_path / "home")
    paths.user_specs.mkdir(parents=True)
    digests = {"repro-mcip-s0-old": "0123456789ab", "repro-mcip-s0-new": finetune._trainer_digest()}
    for name in [*digests, "repro-mcip-s0-unrecorded"]:
        run = tmp_path / "runs" / name
        run.mkdir(parents=True)
        (run / "model.safetensors").write_bytes(b"w" * 1000)
        (paths.user_specs / f"{name}.json").write_text("{}")
        if name in digests:
            (run / finetune.TRAINER_RECORD).write_text(digests[name])
    freed = finetune.remove_stale_runs(tmp_path, paths)
    assert freed == 1000 + len("0123456789ab")
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["repro-mcip-s0-new", "repro-mcip-s0-unrecorded"]
    assert sorted(p.stem for p in paths.user_specs.iterdir()) == ["repro-mcip-s0-new", "repro-mcip-s0-unrecorded"]
