"""How much class information a model's image embeddings hold, on the reproduction's seen classes.

The reproduction's mAP moves little whatever the fine-tuning; this asks why: is the class information in
the embeddings and only badly arranged (a probe trained on the labels finds it), or not there at all?
For each model it embeds the fine-tuning photos and the held-out val photos of the seen classes and
prints nearest-class-mean accuracy (class means of the fine-tuning photos; the geometry retrieval sees)
and a linear probe's accuracy (softmax regression on the fine-tuning photos), each on the photos it was
fitted to and on the held-out ones; chance is 1 in the number of classes. Run from benchmarks/:

    python -m reproduce.features SPEC [SPEC ...]

SPEC is a spec file: the cached base (`~/.cache/photosift-repro/full/base-*/base.json`) or a fine-tuned
run's (`~/.cache/photosift-repro/full/home/models/specs/repro-*.json`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from reproduce_mcip import EVAL_SOURCE, TRAIN_SOURCE

from photosift.core.evaluation.datasets import load_folder_dataset
from photosift.core.evaluation.runner import embed_images
from photosift.core.models.encoder import Encoder
from photosift.core.models.registry import ModelRegistry
from photosift.core.progress import no_progress
from photosift.core.settings import HOME_ENV, Paths
from reproduce.layout import Layout, Split, build_layout

CACHE = Path("~/.cache/photosift-repro/full").expanduser()
PROBE_STEPS = 500


def open_reproduction(doc: str) -> tuple[list[Path], Paths, Layout]:
    """The command line of a diagnostic over the reproduction's models (spec files and the reproduction's
    --finetune-images) and what it reads: the specs, the cache's home and the data layout, with two torch
    threads."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", nargs="+", type=Path)
    parser.add_argument("--finetune-images", type=int, default=200, help="as given to reproduce_mcip.py")
    args = parser.parse_args()
    torch.set_num_threads(2)
    os.environ[HOME_ENV] = str(CACHE / "home")  # where the reproduction's fine-tuned specs live
    split = Split(finetune=(50, 50 + args.finetune_images))
    return args.specs, Paths(CACHE / "home"), build_layout(TRAIN_SOURCE, EVAL_SOURCE, CACHE / "data", split)


def main() -> None:
    specs, paths, layout = open_reproduction(__doc__)
    fitted, held_out = load_folder_dataset(layout.finetune), load_folder_dataset(layout.eval_seen)
    if fitted.class_names != held_out.class_names:
        raise SystemExit("the fine-tuning and held-out folders name different classes")
    print(f"{len(fitted.class_names)} classes (chance {100 / len(fitted.class_names):.1f} %)")
    for spec_path in specs:
        encoder = Encoder(ModelRegistry(paths).resolve(str(spec_path.resolve())), paths, "cpu")
        x_fit, x_held = (_embed(encoder, d.paths) for d in (fitted, held_out))
        encoder.release()
        y_fit, y_held = torch.from_numpy(fitted.labels), torch.from_numpy(held_out.labels)
        ncm = _nearest_class_mean(x_fit, y_fit)
        probe = _linear_probe(x_fit, y_fit)
        print(
            f"{spec_path.stem}: nearest class mean {_accuracy(ncm(x_fit), y_fit)} fitted,"
            f" {_accuracy(ncm(x_held), y_held)} held out; linear probe {_accuracy(probe(x_fit), y_fit)} fitted,"
            f" {_accuracy(probe(x_held), y_held)} held out"
        )


def _embed(encoder: Encoder, paths: tuple[Path, ...]) -> torch.Tensor:
    embedded = embed_images(encoder, paths, no_progress, None, workers=1, batch_size=256)
    if embedded.failed:
        raise SystemExit(f"{embedded.failed} photos could not be read")
    vectors: npt.NDArray[np.float32] = embedded.vectors
    return F.normalize(torch.from_numpy(vectors), dim=-1)


def _nearest_class_mean(x: torch.Tensor, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    means = F.normalize(torch.stack([x[y == c].mean(0) for c in range(int(y.max()) + 1)]), dim=-1)
    return lambda v: v @ means.T


def _linear_probe(x: torch.Tensor, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Softmax regression on unit vectors, full batch, with a little weight decay."""
    weights = torch.zeros(x.shape[1], int(y.max()) + 1, requires_grad=True)
    bias = torch.zeros(int(y.max()) + 1, requires_grad=True)
    optimizer = torch.optim.Adam([weights, bias], lr=1e-2)
    for _ in range(PROBE_STEPS):
        loss = F.cross_entropy(10 * x @ weights + bias, y) + 1e-4 * weights.square().sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return lambda v: (10 * v @ weights + bias).detach()


def _accuracy(scores: torch.Tensor, labels: torch.Tensor) -> str:
    return f"{100 * float((scores.argmax(1) == labels).float().mean()):.1f} %"


if __name__ == "__main__":
    main()
