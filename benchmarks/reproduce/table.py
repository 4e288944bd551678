"""Evaluating models on the held-out photos and printing the paper's table (MCIP.md, Table 1 layout)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from photosift.core.evaluation.datasets import load_folder_dataset
from photosift.core.evaluation.runner import EvalReport, evaluate
from photosift.core.models.encoder import Encoder
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths

# (column title, eval set, EvalReport field), in the paper's order: image-to-image, k-NN, zero-shot, T2I.
COLUMNS = (
    ("mAP seen", "seen", "map"),
    ("mAP unseen", "unseen", "map"),
    ("kNN seen", "seen", "knn_accuracy"),
    ("ZS top-1 seen", "seen", "zero_shot_top1"),
    ("ZS unseen", "unseen", "zero_shot_top1"),
    ("T2I R@5 seen", "seen", "t2i_recall_at_5"),
    ("T2I unseen", "unseen", "t2i_recall_at_5"),
)
ROWS = ("base", "gpr-ft", "2sft", "mcip")


def evaluate_model(spec: ModelSpec, paths: Paths, folders: dict[str, Path]) -> dict[str, EvalReport]:
    """Every metric of one model on each eval folder ("seen", "unseen")."""
    encoder = Encoder(spec, paths, "cpu")
    reports = {
        name: evaluate(encoder, load_folder_dataset(folder), workers=2, batch_size=64)
        for name, folder in folders.items()
    }
    encoder.release()
    return reports


def metric_row(reports: Sequence[dict[str, EvalReport]]) -> dict[str, list[float]]:
    """Column title -> the value of each seed, in percent."""
    row: dict[str, list[float]] = {}
    for title, which, field in COLUMNS:
        values = [getattr(r[which], field) for r in reports]
        row[title] = [100.0 * v for v in values if v is not None]
    return row


def format_table(rows: dict[str, dict[str, list[float]]]) -> str:
    """A fixed-width table: mean ± std across seeds (std left out for a single value)."""
    width = max(len(title) for title, _, _ in COLUMNS)
    cells = {name: [_cell(row[title]) for title, _, _ in COLUMNS] for name, row in rows.items()}
    width = max(width, *(len(c) for cs in cells.values() for c in cs))
    header = f"{'model':<8} | " + " | ".join(f"{title:>{width}}" for title, _, _ in COLUMNS)
    lines = [header, "-" * len(header)]
    lines += [f"{name:<8} | " + " | ".join(f"{c:>{width}}" for c in cs) for name, cs in cells.items()]
    return "\n".join(lines)


def _cell(values: list[float]) -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.fmean(values):.1f} ± {statistics.stdev(values):.1f}"


def summary(rows: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, dict[str, object]]]:
    """The table as JSON: per model and column, the mean, std and per-seed values."""
    return {
        name: {
            title: {
                "mean": statistics.fmean(v) if v else None,
                "std": statistics.stdev(v) if len(v) > 1 else None,
                "values": v,
            }
            for title, v in row.items()
        }
        for name, row in rows.items()
    }
