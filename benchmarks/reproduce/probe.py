"""A few-CPU-minute probe of a base architecture and pretraining settings: does it learn?

Pretrains on 40 classes (20 caption pairs, so batches of 20) exactly as the reproduction does, then scores
zero-shot top-1 on the held-out val photos of those classes, over the 40 classes (chance 2.5 %, at best
about half of it reachable, since pooled captions never tell a pair apart) and over the 20 caption pairs
(chance 5 %). Run from benchmarks/:

    python -m reproduce.probe [--arch reproduce/arch.json] [--lr 2e-4] [--warmup 0.1] [--epochs 3] [--caption-group 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from _common import SHARED_DATA

from photosift.core.evaluation.prompts import TEMPLATES as EVAL_TEMPLATES
from photosift.core.models.build import load_tokenizer
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths
from reproduce.layout import Layout, Split, build_layout
from reproduce.pretrain import ARCH, CLIP_MEAN, CLIP_STD, PretrainSettings, _spec, load_pixels, pretrain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", type=Path, default=ARCH)
    parser.add_argument("--classes", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=PretrainSettings.lr)
    parser.add_argument("--warmup", type=float, default=PretrainSettings.warmup_fraction)
    parser.add_argument("--weight-decay", type=float, default=PretrainSettings.weight_decay)
    parser.add_argument("--caption-group", type=int, default=2, help="1: every class its own captions")
    parser.add_argument("--photos", type=int, default=50, help="pretraining photos per class")
    parser.add_argument("--name-group", action="store_true", help="captions name the whole caption group")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cache = Path("~/.cache/photosift-repro/probe").expanduser()
    split = Split(
        n_classes=args.classes,
        pretrain=(0, args.photos),
        finetune=(args.photos, args.photos + 10),
        held_out=(0, 50),
        caption_group=args.caption_group,
    )
    layout = build_layout(SHARED_DATA / "tiny-imagenet-train", SHARED_DATA / "tiny-imagenet-val", cache / "data", split)
    settings = PretrainSettings(
        epochs=args.epochs,
        lr=args.lr,
        warmup_fraction=args.warmup,
        weight_decay=args.weight_decay,
        name_group=args.name_group,
    )
    paths = Paths(cache / "home")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(args.arch, Path(tmp) / ARCH.name)
        spec = _spec(Path(tmp), random_init=True)
        start = time.process_time()
        model = pretrain(spec, paths, layout.pretrain, layout.names, layout.groups, settings, print)
        cpu = time.process_time() - start
        print(f"{zero_shot(model, spec, paths, layout)}; pretraining {cpu / 60:.1f} CPU-min")


def zero_shot(model: torch.nn.Module, spec: ModelSpec, paths: Paths, layout: Layout) -> str:
    """Zero-shot top-1 over the classes and over the caption groups on the held-out val photos, and the mean
    cosine between photos (near 1: a collapsed tower)."""
    wnids = sorted(layout.pretrain)
    folders = (layout.eval_seen, layout.eval_unseen)
    pixels, labels = load_pixels(
        {w: sorted(p for f in folders for p in (f / w).glob("*")) for w in wnids}, spec.image_size
    )
    tokenizer = load_tokenizer(spec, paths.models)
    mean, std = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        images = F.normalize(model.encode_image((pixels.float() / 255 - mean) / std), dim=-1)
        prompts = [tokenizer([t.format(layout.names[w]) for t in EVAL_TEMPLATES]) for w in wnids]
        texts = torch.stack([F.normalize(model.encode_text(p), dim=-1).mean(0) for p in prompts])
        predicted = (images @ F.normalize(texts, dim=-1).T).argmax(1)
    group = torch.tensor([layout.groups[w] for w in wnids])
    top1 = (predicted == labels).float().mean().item()
    pair_top1 = (group[predicted] == group[labels]).float().mean().item()
    return (
        f"zero-shot top-1 {100 * top1:.1f}% (chance {100 / len(wnids):.1f}%), pair top-1 {100 * pair_top1:.1f}%"
        f" (chance {100 / (int(group.max()) + 1):.1f}%), mean image cosine {(images @ images.T).mean().item():.3f}"
    )


if __name__ == "__main__":
    main()
