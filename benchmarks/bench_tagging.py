"""Zero-shot tagging accuracy on tiny-imagenet-val, with its class names as the tag vocabulary.

    python benchmarks/bench_tagging.py [--model NAME_OR_SPEC_JSON] [--images held-out|all] [--device cpu]

Each class becomes a tag whose prompts are its names from classes.tsv ("a goldfish", "a Carassius
auratus"), ensembled with the built-in vocabulary's templates exactly as Photosift builds tag vectors
(core.tags.scoring). Prints top-1 and top-5 accuracy against the chance level, the same for the
evaluation protocol's prompts (class name x 14 templates) for comparison, and how the calibrated
thresholds (core.tags.calibration) do as a multi-label tagger: precision, recall and tags per photo.

No pretrained weights are on this machine. By default the model is the reproduction's cached base model
(benchmarks/reproduce_mcip.py caches it as ~/.cache/photosift-repro/full/base-*/base.json), which was
pretrained on images 0-24 of every class, so by default only the held-out images 40-49 are scored.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from _common import SHARED_DATA
from reproduce.layout import PHOTO_SUFFIXES, Split

from photosift.core.evaluation.metrics import zero_shot_accuracy
from photosift.core.evaluation.prompts import class_text_embeddings
from photosift.core.evaluation.runner import embed_images
from photosift.core.models.encoder import Encoder
from photosift.core.models.registry import ModelRegistry
from photosift.core.settings import Paths
from photosift.core.tags.calibration import SENSITIVITY_RANGE, calibrate, histograms
from photosift.core.tags.scoring import TOP_K, scores, text_vectors, top_k
from photosift.core.tags.vocabulary import load_vocabulary

SOURCE = SHARED_DATA / "tiny-imagenet-val"
REPRO_CACHE = Path("~/.cache/photosift-repro/full").expanduser()


def default_model() -> str | None:
    """The newest cached reproduction base spec, if reproduce_mcip.py has run here."""
    found = sorted(REPRO_CACHE.glob("base-*/base.json"), key=lambda p: p.stat().st_mtime)
    return str(found[-1]) if found else None


def read_classes(source: Path) -> list[tuple[str, str, list[str]]]:
    """(wnid, name, all names) per class, in wnid order."""
    with (source / "classes.tsv").open(encoding="utf-8", newline="") as f:
        rows = [(r["wnid"], r["name"], _names(r["all_names"])) for r in csv.DictReader(f, delimiter="\t")]
    return sorted(r for r in rows if (source / r[0]).is_dir())


def _names(all_names: str) -> list[str]:
    return [n.strip() for n in all_names.split(",") if n.strip()]


def with_article(noun: str) -> str:
    return f"{'an' if noun[0].lower() in 'aeiou' else 'a'} {noun}"


def images(source: Path, wnids: list[str], which: str) -> tuple[list[Path], np.ndarray]:
    start, end = Split().held_out if which == "held-out" else (0, None)
    paths, labels = [], []
    for row, wnid in enumerate(wnids):
        files = sorted(p for p in (source / wnid).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)[start:end]
        paths += files
        labels += [row] * len(files)
    return paths, np.asarray(labels, dtype=np.int64)


def calibrated_tags(score_matrix: np.ndarray, labels: np.ndarray, sensitivity: int) -> tuple[float, float, float]:
    """Precision, recall and mean tags per photo when each photo gets the candidates (its TOP_K best)
    that reach their tag's calibrated threshold, the benchmark's photos being the library."""
    counts = histograms(score_matrix.astype(np.float32))
    thresholds = np.array([c.threshold(sensitivity) if (c := calibrate(h)) else np.inf for h in counts])
    rows, columns = top_k(score_matrix, TOP_K)
    kept = score_matrix[rows, columns] >= thresholds[columns]
    rows, columns = rows[kept], columns[kept]
    correct = columns == labels[rows]
    precision = float(correct.mean()) if len(correct) else 0.0
    recall = len(set(rows[correct].tolist())) / len(labels)
    return precision, recall, len(rows) / len(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=default_model(), help="model name or spec JSON (default: repro base)")
    parser.add_argument("--images", choices=["held-out", "all"], default="held-out", help="which images per class")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.model is None:
        parser.error(f"no model: pass --model, or run benchmarks/reproduce_mcip.py to cache one under {REPRO_CACHE}")
    paths = Paths(REPRO_CACHE / "home")
    spec = ModelRegistry(paths).resolve(args.model)
    encoder = Encoder(spec, paths, args.device)
    classes = read_classes(SOURCE)
    files, labels = images(SOURCE, [c[0] for c in classes], args.images)
    start = time.perf_counter()
    embedded = embed_images(encoder, files, lambda _: None, None, args.workers, args.batch_size)
    vectors, labels = embedded.vectors, labels[embedded.kept]
    embed_s = time.perf_counter() - start

    templates = load_vocabulary().templates
    prompts = [list(dict.fromkeys(with_article(n) for n in [name, *names])) for _, name, names in classes]
    start = time.perf_counter()
    tags = text_vectors(encoder.encode_texts, prompts, templates)
    tag_s = time.perf_counter() - start
    tagging = zero_shot_accuracy(vectors, labels, tags)
    names_only = zero_shot_accuracy(
        vectors, labels, text_vectors(encoder.encode_texts, [p[:1] for p in prompts], templates)
    )
    protocol = zero_shot_accuracy(vectors, labels, class_text_embeddings(encoder, [c[1] for c in classes]))
    score_matrix = scores(vectors, tags)

    n = len(classes)
    print(f"model: {spec.name} ({args.model}) on {args.device}")
    print(f"data: {SOURCE.name}, {len(labels)} {args.images} images of {n} classes ({embed_s:.1f} s to embed)")
    print(f"vocabulary: {n} tags, {sum(map(len, prompts))} prompts x {len(templates)} templates ({tag_s:.1f} s)")
    print(f"{'':<44}{'top-1':>8}{'top-5':>8}")
    print(f"{'chance':<44}{100 / n:>8.1f}{500 / n:>8.1f}")
    print(f"{'tagging: names + synonyms x tag templates':<44}{100 * tagging.top1:>8.1f}{100 * tagging.top5:>8.1f}")
    print(f"{'tagging: name only x tag templates':<44}{100 * names_only.top1:>8.1f}{100 * names_only.top5:>8.1f}")
    print(f"{'eval protocol: name x 14 eval templates':<44}{100 * protocol.top1:>8.1f}{100 * protocol.top5:>8.1f}")
    print("calibrated tags (the benchmark's photos as the library):")
    for level in range(SENSITIVITY_RANGE[0], SENSITIVITY_RANGE[1] + 1):
        precision, recall, per_photo = calibrated_tags(score_matrix, labels, level)
        print(
            f"  sensitivity {level:+d}: precision {100 * precision:5.1f}%, recall {100 * recall:5.1f}%, "
            f"{per_photo:.2f} tags per photo"
        )


if __name__ == "__main__":
    main()
