"""`python -m photosift.training --plan`: what a run would train on, before it trains.

The fine-tuning wizard shows this before the user commits minutes or hours: the split, the pseudo-caption
coverage (which needs the base model, so it cannot be computed in the GUI without loading a second copy),
and how fast this machine embeds photos with this model, which turns the wizard's time estimate from a
guess into a measurement. It does the same work the run does first (same data, split, seed, caption
mining), so what it reports is what the run will get; it writes nothing.
"""

from __future__ import annotations

from collections import Counter

from photosift.core.settings import Paths
from photosift.training.config import TrainConfig
from photosift.training.run import FineTuneRun
from photosift.training.runtime import Runtime

EXAMPLES = 3  # photos whose mined captions are shown as a sample, one per class
EXAMPLE_CAPTIONS = 3  # captions quoted per sample photo


def plan(config: TrainConfig, paths: Paths, runtime: Runtime) -> None:
    """Report the run's data ("plan", "warning"), the base model's scores and speed ("eval", "speed") and
    the captions' coverage ("captions", "caption_coverage"), then "plan_done"."""
    job = FineTuneRun(config, paths, runtime)
    names = job.data.class_names
    train = Counter(label for _, label in job.data.train)
    validation = Counter(label for _, label in job.data.validation)
    runtime.report(
        "plan",
        device=runtime.device,
        base=job.base.name,
        train=len(job.data.train),
        validation=len(job.data.validation),
        classes=[{"name": name, "train": train[i], "validation": validation[i]} for i, name in enumerate(names)],
        held_out=[{"path": str(path), "label": names[label]} for path, label in job.data.validation],
    )
    for warning in job.data.warnings:
        runtime.report("warning", message=warning)
    job.encoder.load()  # loaded before timing, so the rate below is the model's, not the disk's
    before = job.evaluate("before")
    runtime.report("speed", images_per_second=before.n_images / max(before.elapsed_s, 1e-6), device=runtime.device)
    mined = job.captions(keep=False)
    if mined is not None:
        table, bank = mined
        covered = Counter(label for (_, label), found in zip(job.data.train, table.per_item, strict=True) if len(found))
        examples = []
        for label in range(min(EXAMPLES, len(names))):
            row = next((i for i, (_, item_label) in enumerate(job.data.train) if item_label == label), None)
            if row is not None:
                found = table.per_item[row][:EXAMPLE_CAPTIONS]
                path = str(job.data.train[row][0])
                examples.append({"path": path, "label": names[label], "captions": [bank[int(c)] for c in found]})
        runtime.report(
            "caption_coverage",
            classes=[{"name": name, "covered": covered[i], "total": train[i]} for i, name in enumerate(names)],
            examples=examples,
        )
    runtime.report("plan_done")
