"""Labelled image sets for evaluation: a folder per class, or GPR1200's flat `{classId}_{name}.jpg` folder."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from photosift.core.errors import FolderNotFoundError, UserError
from photosift.core.imageio import PHOTO_EXTENSIONS

# GPR1200 (arXiv 2111.13122) holds 200 classes of each domain, in this order of class ids.
GPR1200_DOMAINS = ("landmarks", "nature", "sketches", "objects", "products", "faces")
GPR1200_CLASSES_PER_DOMAIN = 200
GPR1200_NAME = re.compile(r"^(\d+)_.+$")
CLASS_NAMES_FILE = "classes.tsv"  # columns wnid and name, as in the tiny-imagenet-val folder


@dataclass(frozen=True)
class LabelledImages:
    """Images with integer labels.

    Attributes:
        root: the folder the set was read from.
        paths: one path per image.
        labels: (N,) row of each image's class in `class_names` (for a full GPR1200 set, the class id).
        class_names: display names, usable in text prompts when `named` is true.
        groups: (N,) index into `group_names` of each image's group, or None.
        group_names: names of the groups (GPR1200's domains), empty without groups.
        named: whether the class names are words (GPR1200 has only numeric ids: no zero-shot).
    """

    root: Path
    paths: tuple[Path, ...]
    labels: npt.NDArray[np.int64]
    class_names: tuple[str, ...]
    groups: npt.NDArray[np.int64] | None = None
    group_names: tuple[str, ...] = ()
    named: bool = True


def gpr1200_class(path: Path) -> int | None:
    """The class id in a GPR1200 file name (`17_abc.jpg` -> 17), or None if it is not one."""
    match = GPR1200_NAME.match(path.stem)
    return int(match.group(1)) if match else None


def gpr1200_domain(class_id: int) -> int:
    """The domain index in `GPR1200_DOMAINS` of a class id (0-199 landmarks, ..., 1000-1199 faces)."""
    if not 0 <= class_id < GPR1200_CLASSES_PER_DOMAIN * len(GPR1200_DOMAINS):
        raise UserError(f"GPR1200 class ids run from 0 to 1199, but a file has class id {class_id}.")
    return class_id // GPR1200_CLASSES_PER_DOMAIN


def load_folder_dataset(root: Path, limit_per_class: int | None = None) -> LabelledImages:
    """Read a labelled set: class subfolders (with optional `classes.tsv` display names), or else a flat
    GPR1200 folder. Files are taken in name order; `limit_per_class` keeps the first few of each class.

    Raises:
        FolderNotFoundError: `root` is not a folder.
        UserError: no images, fewer than two classes, or a flat folder whose names are not GPR1200's.
    """
    if not root.is_dir():
        raise FolderNotFoundError(f"The evaluation folder {root} does not exist or is not a folder.")
    classes = {d.name: _images(d) for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")}
    classes = {name: files[:limit_per_class] for name, files in classes.items() if files}
    dataset = _from_subfolders(root, classes) if classes else _from_gpr1200(root, _images(root), limit_per_class)
    if len(dataset.class_names) < 2:
        raise UserError(f"The evaluation folder {root} has fewer than two classes; evaluation needs at least two.")
    return dataset


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_EXTENSIONS and p.is_file())


def _from_subfolders(root: Path, classes: dict[str, list[Path]]) -> LabelledImages:
    display = _display_names(root / CLASS_NAMES_FILE)
    paths = tuple(p for files in classes.values() for p in files)
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), [len(f) for f in classes.values()])
    return LabelledImages(root, paths, labels, tuple(display.get(name, name) for name in classes))


def _display_names(table: Path) -> dict[str, str]:
    if not table.is_file():
        return {}
    with table.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t")
        if not rows.fieldnames or not {"wnid", "name"} <= set(rows.fieldnames):
            raise UserError(f"{table} needs the tab-separated columns wnid and name.")
        return {row["wnid"]: row["name"] for row in rows}


def _from_gpr1200(root: Path, files: list[Path], limit_per_class: int | None) -> LabelledImages:
    if not files:
        raise UserError(f"The evaluation folder {root} has no images (neither class subfolders nor image files).")
    by_class: dict[int, list[Path]] = {}
    for path in files:
        class_id = gpr1200_class(path)
        if class_id is None:
            raise UserError(
                f"The evaluation folder {root} has no class subfolders, and the name of {path.name} is not "
                "GPR1200's {classId}_{name}.jpg: put each class's images in a subfolder named after the class."
            )
        by_class.setdefault(class_id, []).append(path)
    by_class = {c: by_class[c][:limit_per_class] for c in sorted(by_class)}
    paths = tuple(p for class_files in by_class.values() for p in class_files)
    labels = np.repeat(np.arange(len(by_class), dtype=np.int64), [len(f) for f in by_class.values()])
    domains = np.array([gpr1200_domain(c) for c in by_class], dtype=np.int64)[labels]
    names = tuple(str(c) for c in by_class)
    return LabelledImages(root, paths, labels, names, domains, GPR1200_DOMAINS, named=False)
