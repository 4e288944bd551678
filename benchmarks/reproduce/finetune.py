"""Fine-tuning the base model with the project's own trainer, one method and seed at a time, in this
process or spread over several."""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

import photosift.training
from photosift.core.evaluation.runner import EvalReport
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec
from photosift.core.progress import CancelToken
from photosift.core.settings import HOME_ENV, Paths
from photosift.training.checkpoint import CHECKPOINT
from photosift.training.config import load_config
from photosift.training.run import BEST_TOWER, MINED_CAPTIONS, execute, make_runtime
from reproduce.table import evaluate_model

# Row name -> (trainer method, re-alignment after it): the paper's four OpenAI rows.
METHODS = {"gpr-ft": ("gpr-ft", False), "2sft": ("2sft", False), "mcip": ("mcip", False), "mcip+re-a": ("mcip", True)}
# Row name -> the row whose stage (a) it is: 2sft is gpr-ft then re-alignment, mcip + re-a is mcip then
# re-alignment (same seed and settings, same stage (a): the trainer uses captions in stage (a) for mcip only).
CONTINUES = {"2sft": "gpr-ft", "mcip+re-a": "mcip"}


@dataclass(frozen=True)
class FineTuneSettings:
    """The budget every method gets; overrides of the trainer's paper-scale defaults, which otherwise apply
    (AdamW, cosine per step, s = 30, m = 0.1, 0.75/0.25 loss weights, the last partial batch kept,
    gradient clipping per group to norm 1, re-alignment's clamp and weight decay).

    The paper's 1e-6 tower LR suits a pretrained 400M tower on millions of photos; this 2M-parameter
    tower, pretrained for minutes, needs a much larger step to move in a few hundred updates.
    """

    # The paper's 3 epochs move this tower hardly at all: gpr-ft seed 0 on 100 photos a class read seen mAP 5.2
    # (base 5.2) after 3 epochs, 5.5 after 12; on 200 photos a class mcip read 5.7 after 10 epochs (+10 %)
    # and 7.1 after 30 (+36 %, 3 seeds; README, the reproduction).
    epochs: int = 30
    batch_size: int = 128  # the paper's
    lr_tower: float = 3e-4  # 1e-4 moved the tower ~2.5% in 180 steps: too little to learn anything new
    lr_proxies: float = 1e-2
    min_lr: float = 1e-6
    patch_dropout: float = 0.0  # 64 tokens at 64 px: dropping a third leaves too little to see
    grad_checkpointing: bool = False  # memory is plentiful on the CPU; recomputation only costs time
    early_stopping_patience: int = 100  # no early stop: equal budgets (the best epoch is still kept)
    val_fraction: float = 0.1  # 20 of each seen class's 200 photos choose the best epoch
    realign_epochs: int = 3
    realign_lr: float = 3e-4  # the text tail was trained at 1e-3 minutes ago; 1e-5 would barely move it
    realign_batch_size: int = 256
    workers: int = 0  # 64 px JPEGs decode in well under a millisecond: worker processes cost more than they save


TRAINER_RECORD = "trainer-digest.txt"  # in each run folder: the digest of the trainer code that made it

Reports = dict[str, EvalReport]
"""One model's evaluation on each eval folder ("seen", "unseen")."""


def fine_tune_all(
    base: ModelSpec,
    data: Path,
    methods: list[str],
    seeds: list[int],
    s: FineTuneSettings,
    cache: Path,
    folders: dict[str, Path],
    evals: Path,
    jobs: int,
    threads: int,
) -> dict[str, list[Reports]]:
    """Fine-tune and evaluate (`table.evaluate_model`, cached under `evals`) every method at every seed;
    `jobs` runs at once, each in its own process with `threads` torch threads.

    Two processes of one thread each do more on two cores than one of two: a 128-photo step of the
    reproduction's tower takes 0.081 s with 2 threads and 0.137 s with 1, so 2 x 128 photos every 0.137 s
    against 128 every 0.081 s (1.18x), and the decoding of each run, single-threaded, overlaps the other's
    model. A row of `CONTINUES` continues its first row's run of the same seed when both are asked for, so
    it waits for that run and adds only the re-alignment.
    """
    tasks = [(method, seed) for method in methods for seed in seeds]
    results: dict[str, dict[int, Reports]] = {method: {} for method in methods}
    args = (base, data, s, cache, folders, evals)
    context = multiprocessing.get_context("spawn")  # forking a process whose OpenMP threads run can hang
    with ProcessPoolExecutor(
        jobs, context, initializer=_start_worker, initargs=(threads, os.environ[HOME_ENV], os.getpid())
    ) as pool:
        running: dict[Future[Reports], tuple[str, int]] = {}
        waiting = [t for t in tasks if _continues(t, tasks)]
        for task in (t for t in tasks if t not in waiting):
            running[pool.submit(_fine_tune_and_evaluate, *task, *args)] = task
        while running:
            done, _ = wait(running, return_when="FIRST_COMPLETED")
            for future in done:
                method, seed = running.pop(future)
                results[method][seed] = future.result()
                log(f"{method} seed {seed}: {_brief(results[method][seed])}")
                for task in [t for t in waiting if CONTINUES[t[0]] == method and t[1] == seed]:
                    waiting.remove(task)
                    running[pool.submit(_fine_tune_and_evaluate, *task, *args)] = task
    return {method: [results[method][seed] for seed in seeds] for method in methods}


def _continues(task: tuple[str, int], tasks: list[tuple[str, int]]) -> bool:
    """Whether `task` continues another run of `tasks` (`CONTINUES`)."""
    return task[0] in CONTINUES and (CONTINUES[task[0]], task[1]) in tasks


def _start_worker(threads: int, home: str, parent: int) -> None:
    torch.set_num_threads(threads)
    os.environ[HOME_ENV] = home  # nothing touches the real user folders, trainer included
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A killed reproduction must not leave its runs training on (into folders the next one would reuse):
    a worker is not told when its parent dies, so it watches."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _fine_tune_and_evaluate(
    method: str,
    seed: int,
    base: ModelSpec,
    data: Path,
    s: FineTuneSettings,
    cache: Path,
    folders: dict[str, Path],
    evals: Path,
) -> Reports:
    paths = Paths(Path(os.environ[HOME_ENV]))
    spec = fine_tune(base, data, method, seed, s, cache, paths)
    return evaluate_model(spec, paths, folders, evals)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _brief(reports: Reports) -> str:
    return ", ".join(
        f"{w} map {r.map:.3f} zs {r.zero_shot_top1 or 0:.3f} t2i {r.t2i_recall_at_5 or 0:.3f}"
        for w, r in reports.items()
    )


def fine_tune(
    base: ModelSpec,
    data: Path,
    method: str,
    seed: int,
    s: FineTuneSettings,
    cache: Path,
    paths: Paths,
) -> ModelSpec:
    """Run the trainer (or reuse a finished run with the same inputs) and return the exported model's spec.
    `method` is a row name of `METHODS`."""
    name = _run_name(base, data, method, seed, s)
    registry = ModelRegistry(paths)
    exported = paths.user_specs / f"{name}.json"
    if exported.is_file() and (cache / "runs" / name / "eval.json").is_file():
        log(f"{method} seed {seed}: cached run {name}")
        # The key holds the trainer's digest, so this code made it: recorded, a later change removes it.
        (cache / "runs" / name / TRAINER_RECORD).write_text(_trainer_digest())
        return registry.resolve(str(exported))
    overrides: dict[str, Any] = {
        **asdict(s),
        "data": str(data),
        "model": str(base.path),
        "method": METHODS[method][0],
        "realign_after": METHODS[method][1],
        "name": name,
        "output": str(cache / "runs" / name),
        "seed": seed,
        "device": "cpu",
    }
    _continue_stage_a(base, data, method, seed, s, cache, Path(overrides["output"]))
    Path(overrides["output"]).mkdir(parents=True, exist_ok=True)
    (Path(overrides["output"]) / TRAINER_RECORD).write_text(_trainer_digest())
    config = load_config(None, overrides)
    report = _reporter(f"{method} s{seed}")
    result = execute(config, paths, make_runtime(config, paths, report, CancelToken()))
    if not result.finished or result.spec_name is None:
        raise RuntimeError(f"the {method} run (seed {seed}) did not finish")
    return registry.resolve(str(paths.user_specs / f"{result.spec_name}.json"))


def remove_stale_runs(cache: Path, paths: Paths) -> int:
    """Delete the cached runs that other trainer code made, with their model specs; return the bytes freed.

    A run's key includes the trainer's digest (`_key`), so once `training/` changes no run of the new code
    can reuse them, and each holds about 45 MB (checkpoint, best tower, model): a few changes a day filled
    gigabytes. A run that recorded no digest (made before runs did, and not reused since) is kept, as nothing
    says which code made it; cached evaluations (a few kB each) stay too.
    """
    current = _trainer_digest()
    freed = 0
    for record in sorted((cache / "runs").glob(f"*/{TRAINER_RECORD}")):
        if record.read_text().strip() == current:
            continue
        run = record.parent
        freed += sum(f.stat().st_size for f in run.rglob("*") if f.is_file())
        (paths.user_specs / f"{run.name}.json").unlink(missing_ok=True)
        shutil.rmtree(run)
    return freed


def _run_name(base: ModelSpec, data: Path, method: str, seed: int, s: FineTuneSettings) -> str:
    return f"repro-{method.replace('+', '-')}-s{seed}-{_key(base, data, method, seed, s)}"


def _continue_stage_a(
    base: ModelSpec, data: Path, method: str, seed: int, s: FineTuneSettings, cache: Path, run_dir: Path
) -> None:
    """Start a row of `CONTINUES` from the finished run of its first row at the same seed, when there is
    one: copied into its run folder, that run's last checkpoint makes the trainer resume after stage (a)
    (the trainer's own resumption), with the same best weights, so only the re-alignment runs, and the
    captions are mined unless that run mined them (mcip did; gpr-ft uses none)."""
    if method not in CONTINUES or (run_dir / CHECKPOINT).exists():
        return
    source = cache / "runs" / _run_name(base, data, CONTINUES[method], seed, s)
    if not (source / "eval.json").is_file():
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    for part in (CHECKPOINT, BEST_TOWER, "eval_before.json"):
        shutil.copy2(source / part, run_dir / part)
    if (source / MINED_CAPTIONS).is_file():
        shutil.copy2(source / MINED_CAPTIONS, run_dir / MINED_CAPTIONS)


def _key(base: ModelSpec, data: Path, method: str, seed: int, s: FineTuneSettings) -> str:
    """What a run's result depends on, the trainer's code included: a cached run made by other code is not
    this code's result (the evaluations, cached by model name, follow)."""
    identity = {
        "base": [base.key, str(base.path)],
        "data": str(data),
        "method": method,
        "seed": seed,
        "settings": asdict(s),
        "trainer": _trainer_digest(),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]


@functools.cache
def _trainer_digest() -> str:
    """The digest of `training/`'s source as this process first read it: an edit while the reproduction
    runs would otherwise rename the runs that 2sft and mcip + re-a continue, and they would train anew."""
    digest = hashlib.sha256()
    for source in sorted(Path(photosift.training.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def _reporter(tag: str) -> Callable[..., None]:
    """The trainer's `report(event, **fields)`: one compact line per evaluation, logged step (the loss
    parts, so a run that does not learn shows it), stage, caption mining and what re-alignment kept."""

    def report(event: str, **fields: Any) -> None:
        if event == "eval":
            zs = fields.get("zero_shot_top1")
            zs_text = f" zs {zs:.3f}" if zs is not None else ""
            log(f"  {tag} eval {fields['when']}: map {fields['map']:.3f} knn {fields['knn_accuracy']:.3f}{zs_text}")
        elif event == "step":
            losses = " ".join(f"{k} {v:.3f}" for k, v in fields.items() if k.startswith("loss"))
            log(f"  {tag} stage {fields['stage']} step {fields['step']}/{fields['total_steps']}: {losses}")
        elif event == "stage_done":
            best, epochs = fields["best_map"], fields["epochs"]
            log(f"  {tag} stage {fields['stage']} done: best val map {best:.3f} after {epochs} epochs")
        elif event == "captions":
            per_image = fields["mean_per_image"]
            log(f"  {tag} captions: bank {fields['bank']}, coverage {fields['coverage']:.2f}, {per_image:.1f}/image")
        elif event in ("stage", "warning", "recipe", "resumed", "realign_cache"):
            log(f"  {tag} {event}: {fields}")

    return report
