"""The experiment's data layout: symlinks into the shared photos, split per class by image index.

Pretraining and fine-tuning photos come from `tiny-imagenet-train` (250 a class), cut by position after
sorting by name: the first ones pretrain the base model, the next ones fine-tune it (only for half of the
classes). Evaluation uses `tiny-imagenet-val` (50 a class, disjoint from train) and nothing else.
Symlinks rather than copies, so the repository and the cache never hold a second copy of the photos.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import json
import random
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CLASSES_TSV = "classes.tsv"
COMPLETE = ".complete"  # written last: a layout folder without it is rebuilt
FOLDERS = ("finetune", "eval_seen", "eval_unseen")
PHOTO_SUFFIXES = {".jpeg", ".jpg", ".png"}


@dataclass(frozen=True)
class Split:
    """Image index ranges per class (end exclusive) and how the classes are chosen.

    `pretrain` and `finetune` index a class's photos in the training source, `held_out` in the evaluation
    source."""

    pretrain: tuple[int, int] = (0, 50)
    finetune: tuple[int, int] = (50, 250)
    held_out: tuple[int, int] = (0, 50)
    n_classes: int | None = None  # None: every class; fewer for --quick
    seed: int = 0  # the shuffle that picks which classes are fine-tuned and which share captions
    caption_group: int = 2  # classes whose pretraining captions are pooled (1 = every class its own)


@dataclass(frozen=True)
class Layout:
    """Folders of the experiment, all folder-per-class with a classes.tsv.

    Attributes:
        names: wnid -> display name for every class used.
        pretrain: wnid -> its pretraining photos (the base model reads these directly, not a folder).
        groups: wnid -> caption group: pretraining captions name a random class of the photo's group, so
            the base never learns to tell a group's classes apart. Groups never mix seen and unseen classes.
    """

    root: Path
    names: dict[str, str]
    pretrain: dict[str, list[Path]]
    finetune: Path
    eval_seen: Path
    eval_unseen: Path
    groups: dict[str, int]


def read_names(source: Path) -> dict[str, str]:
    """wnid -> display name from the source's classes.tsv (the folder name when absent)."""
    table = source / CLASSES_TSV
    folders = sorted(p.name for p in source.iterdir() if p.is_dir())
    names = {folder: folder for folder in folders}
    if table.is_file():
        with table.open(encoding="utf-8", newline="") as f:
            names.update(
                {row["wnid"]: row["name"] for row in csv.DictReader(f, delimiter="\t") if row["wnid"] in names}
            )
    return names


def build_layout(train_source: Path, eval_source: Path, root: Path, split: Split) -> Layout:
    """The symlink folders of `split`, under a folder of `root` named after the split: built once and then
    left alone, so several processes of one experiment (methods run in parallel) never see them rebuilt.

    Each process builds into a scratch folder of its own and renames it into place when complete: two
    processes starting an experiment at once both linked into one folder and one died on an existing link
    (FileExistsError). The first rename wins; the other's identical copy is thrown away."""
    root = root / hashlib.sha256(json.dumps(dataclasses.asdict(split), sort_keys=True).encode()).hexdigest()[:8]
    names = read_names(train_source)
    wnids = sorted(names)[: split.n_classes] if split.n_classes else sorted(names)
    shuffled = wnids.copy()
    random.Random(split.seed).shuffle(shuffled)
    seen = set(shuffled[: len(shuffled) // 2])
    photos = {wnid: _photos(train_source / wnid) for wnid in wnids}
    evaluation = {wnid: _photos(eval_source / wnid) for wnid in wnids}
    folders = {name: root / name for name in FOLDERS}
    if not (root / COMPLETE).is_file():
        with _scratch_beside(root) as scratch:
            for wnid in wnids:
                if wnid in seen:
                    _link(photos[wnid], split.finetune, scratch / "finetune" / wnid)
                target = scratch / ("eval_seen" if wnid in seen else "eval_unseen") / wnid
                _link(evaluation[wnid], split.held_out, target)
            for name in FOLDERS:
                subset = seen if name != "eval_unseen" else set(wnids) - seen
                _write_names(scratch / name / CLASSES_TSV, {w: names[w] for w in sorted(subset)})
            (scratch / COMPLETE).write_text("", encoding="utf-8")
            _move_into_place(scratch, root)
    pretrain = {wnid: photos[wnid][split.pretrain[0] : split.pretrain[1]] for wnid in wnids}
    used = {w: names[w] for w in wnids}
    groups = caption_groups(shuffled[: len(shuffled) // 2], split.caption_group)
    groups.update(caption_groups(shuffled[len(shuffled) // 2 :], split.caption_group, start=len(set(groups.values()))))
    return Layout(root, used, pretrain, folders["finetune"], folders["eval_seen"], folders["eval_unseen"], groups)


def caption_groups(wnids: list[str], size: int, start: int = 0) -> dict[str, int]:
    """Consecutive runs of `size` classes share a group number (counted from `start`); a short last run
    joins the group before it, so no class is left alone when the others are pooled."""
    count = max(1, len(wnids) // max(size, 1))
    return {wnid: start + min(i // max(size, 1), count - 1) for i, wnid in enumerate(wnids)}


@contextmanager
def _scratch_beside(root: Path) -> Iterator[Path]:
    """A new empty folder next to `root` (same file system, so a rename moves it), removed afterwards
    unless it was renamed into place."""
    root.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _move_into_place(scratch: Path, root: Path) -> None:
    """Rename the complete `scratch` to `root`, unless another process's complete layout got there first.

    A `root` without the completion mark was left by a run of the old code stopped while linking: it is
    renamed aside and removed (never deleted in place, where another process could be renaming into it).
    """
    if root.is_dir() and not (root / COMPLETE).is_file():
        aside = Path(tempfile.mkdtemp(prefix=f".{root.name}-stale-", dir=root.parent))
        with contextlib.suppress(FileNotFoundError):  # another process moved it first
            root.rename(aside / root.name)
        shutil.rmtree(aside, ignore_errors=True)
    try:
        scratch.rename(root)
    except OSError:  # ENOTEMPTY or EEXIST: another process renamed its layout into place first
        if not (root / COMPLETE).is_file():
            raise


def _photos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def _link(photos: list[Path], span: tuple[int, int], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for photo in photos[span[0] : span[1]]:
        (folder / photo.name).symlink_to(photo.resolve())


def _write_names(path: Path, names: dict[str, str]) -> None:
    """A classes.tsv in the source's format, so trainer and evaluation both use the real class names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["wnid\tname"] + [f"{wnid}\t{name}" for wnid, name in names.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
