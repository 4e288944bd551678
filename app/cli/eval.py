"""`photosift eval PATH`: measure a model on a labelled image folder by the MCIP evaluation protocols."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from photosift.app.cli.common import emit
from photosift.core.protocol import EXIT_OK
from photosift.core.settings import Paths, Settings

if TYPE_CHECKING:
    from photosift.core.evaluation.runner import EvalReport

HELP = "measure a model on a labelled folder (a subfolder per class, or GPR1200)"
COLUMNS = ("I2I mAP", "kNN", "ZS top-1", "T2I R@5", "T2I P@5")  # the paper's Table 1 columns that apply here, and P@5


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a folder with a subfolder of images per class, or GPR1200's flat folder")
    parser.add_argument("--limit-per-class", type=int, metavar="N", help="use only the first N images of each class")


def cmd_eval(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    from photosift.app.main import model_provider, resolve_model
    from photosift.app.progress import TqdmProgress
    from photosift.core.evaluation.datasets import load_folder_dataset
    from photosift.core.evaluation.runner import evaluate
    from photosift.core.models.encoder import Encoder

    dataset = load_folder_dataset(Path(args.path), args.limit_per_class)
    paths.ensure()
    models = model_provider(paths)
    device = args.device or settings.device
    spec = resolve_model(models, args.model, settings.with_changes(device=device))
    encoder = models.make_encoder(spec, device)
    # The provider's factory builds a core Encoder; evaluation needs more of it (its spec, texts of any
    # sequence) than the LibraryEncoder protocol that the factory promises.
    assert isinstance(encoder, Encoder)
    with TqdmProgress(quiet=args.json) as progress:
        encoder.load(progress)
        report = evaluate(encoder, dataset, progress)
    emit(args, report, lambda: print(format_report(report)))
    return EXIT_OK


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def format_report(report: EvalReport) -> str:
    """A table in the layout of the paper's Table 1, in percent, with a mAP row per group if any."""
    lines = [
        f"{report.model} on {report.dataset}: {report.n_images} images, {report.n_classes} classes"
        + (f", {report.n_failed} unreadable" if report.n_failed else ""),
        f"{'':<12}" + "".join(f"{c:>10}" for c in COLUMNS),
    ]
    overall = (
        report.map,
        report.knn_accuracy,
        report.zero_shot_top1,
        report.t2i_recall_at_5,
        report.t2i_precision_at_5,
    )
    lines.append(f"{'all':<12}" + "".join(f"{_percent(v):>10}" for v in overall))
    for group, value in report.group_maps.items():
        lines.append(f"{group:<12}{_percent(value):>10}" + "".join(f"{'-':>10}" for _ in COLUMNS[1:]))
    return "\n".join(lines)
