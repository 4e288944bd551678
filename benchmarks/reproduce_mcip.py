"""Reproduce the MCIP paper's finding in miniature on the real photos of tiny-imagenet-val.

Pretrain a tiny CLIP on template captions of class names (cached), fine-tune it with gpr-ft, 2sft and
mcip on half of the classes, and evaluate on held-out photos of the fine-tuned ("seen") and the other
("unseen") classes: image-to-image mAP, k-NN, zero-shot top-1 and class-prompt text-to-image R@5.
The expectation (MCIP.md, Table 1): all three raise mAP; gpr-ft loses zero-shot and text-to-image;
mcip and 2sft keep them. Whatever the table shows is what was measured.

The pretraining captions of each pair of classes are pooled (a photo's caption names its own class or its
pair's other class at random), as web captions say "a dog" where a retrieval label says which dog: the
base learns the categories but not the distinctions that fine-tuning labels teach. With a caption of its
own for every class (`--caption-group 1`), pretraining already gives the base every label fine-tuning has,
and no method moved mAP by more than 0.3 points (README).

    python benchmarks/reproduce_mcip.py [--quick] [--seeds 3] [--caption-group 2] [--cache DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
import time
from pathlib import Path

import torch
from _common import REPO, SHARED_DATA
from reproduce.finetune import METHODS, FineTuneSettings, fine_tune
from reproduce.layout import Split, build_layout
from reproduce.pretrain import PretrainSettings, ensure_base
from reproduce.table import ROWS, evaluate_model, format_table, metric_row, summary

from photosift.core.settings import HOME_ENV, Paths

SOURCE = SHARED_DATA / "tiny-imagenet-val"
QUICK_CLASSES = 20  # enough for class-unique batches and a seen/unseen split, small enough for ~1-2 minutes


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run: few classes, 1 epoch, 1 seed")
    parser.add_argument("--seeds", type=int, default=3, help="fine-tuning seeds per method")
    parser.add_argument("--cache", type=Path, default=Path("~/.cache/photosift-repro").expanduser())
    parser.add_argument("--out", type=Path, default=REPO / "bench-out" / "reproduce_mcip.json")
    parser.add_argument(
        "--pretrain-images",
        type=int,
        default=25,
        help="images per class for pretraining; the rest up to image 40 are for fine-tuning (default 25)",
    )
    parser.add_argument(
        "--caption-group",
        type=int,
        default=2,
        help="classes whose pretraining captions are pooled, so the base cannot tell them apart (default 2; "
        "1 gives every class its own captions)",
    )
    return parser.parse_args(argv)


def settings(
    quick: bool, pretrain_images: int, caption_group: int = 2
) -> tuple[Split, PretrainSettings, FineTuneSettings, int | None]:
    """Full or --quick settings; quick keeps every code path but shrinks every loop."""
    if not quick:
        split = Split(pretrain=(0, pretrain_images), finetune=(pretrain_images, 40), caption_group=caption_group)
        return split, PretrainSettings(), FineTuneSettings(), None
    pre = PretrainSettings(epochs=15)
    fine = FineTuneSettings(epochs=1, realign_epochs=1)
    return Split(n_classes=QUICK_CLASSES, caption_group=caption_group), pre, fine, 1


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    torch.set_num_threads(2)  # the machine's cores; more threads only contend
    split, pre, fine, seed_cap = settings(args.quick, args.pretrain_images, args.caption_group)
    seeds = list(range(min(args.seeds, seed_cap) if seed_cap else args.seeds))
    variant = "quick" if args.quick else "full" if args.pretrain_images == 25 else f"full-p{args.pretrain_images}"
    cache = (args.cache / variant).resolve()
    home = cache / "home"
    os.environ[HOME_ENV] = str(home)  # nothing touches the real user folders, trainer included
    paths = Paths(home)
    layout = build_layout(SOURCE, cache / "data", split)
    log(f"data: {len(layout.names)} classes under {layout.root}")
    base = ensure_base(cache, paths, layout.pretrain, layout.names, layout.groups, pre, log)
    folders = {"seen": layout.eval_seen, "unseen": layout.eval_unseen}
    results = {"base": [evaluate_model(base, paths, folders)]}
    _check_base(results["base"][0])
    for method in METHODS:
        results[method] = []
        for seed in seeds:
            spec = fine_tune(base, layout.finetune, method, seed, fine, cache, paths, log)
            results[method].append(evaluate_model(spec, paths, folders))
            log(f"{method} seed {seed}: {_brief(results[method][-1])}")
    rows = {name: metric_row(results[name]) for name in ROWS}
    elapsed = time.perf_counter() - start
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])])
    print(f"\n{format_table(rows)}\n\ncommand: {command}\nseeds: {len(seeds)}; wall time: {elapsed / 60:.1f} min")
    _write(args.out, rows, command, elapsed, seeds, split, pre, fine)


def _check_base(reports: dict) -> None:
    """Zero-shot near chance would make the text-side comparison meaningless: say so loudly."""
    for which, report in reports.items():
        chance = 1 / report.n_classes
        top1 = report.zero_shot_top1 or 0.0
        verdict = "ok" if top1 > 3 * chance else "WARNING: barely above chance"
        log(f"base zero-shot on {which}: {100 * top1:.1f}% (chance {100 * chance:.1f}%) {verdict}")


def _brief(reports: dict) -> str:
    return ", ".join(
        f"{w} map {r.map:.3f} zs {r.zero_shot_top1 or 0:.3f} t2i {r.t2i_recall_at_5 or 0:.3f}"
        for w, r in reports.items()
    )


def _write(out: Path, rows: dict, command: str, elapsed: float, seeds: list[int], *parts: object) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "command": command,
        "wall_time_s": round(elapsed, 1),
        "seeds": seeds,
        "settings": {type(p).__name__: dataclasses.asdict(p) for p in parts},  # type: ignore[call-overload]
        "table": summary(rows),
    }
    out.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
