"""Labelled photos for fine-tuning: folder-per-class or manifest listing, train/validation splits, sanity checks,
a torch `Dataset`, and the stage (a) augmentation of MCIP.

Labels index `class_names`. Everything random takes an explicit seed, so a run can be repeated exactly.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms import v2

from photosift.core.errors import FolderNotFoundError, ImageError, UserError
from photosift.core.imageio import PHOTO_EXTENSIONS, load_image
from photosift.core.models.spec import ModelSpec
from photosift.core.training_sets import MANIFEST_SUFFIX, check_class_counts, read_manifest
from photosift.core.wording import plural

Item = tuple[Path, int]
"""One labelled photo: its path and the index of its class in `class_names`."""

CLASS_NAMES_FILE = "classes.tsv"  # optional `wnid<TAB>name` table mapping folder names to display names
# MCIP trains at 384 px from a 432 px squash (ratio 1.125), so the random crop can shift by 1/9 of the side.
# Many specs resize straight to the crop size, which would leave the crop nothing to choose from.
TRAIN_RESIZE_RATIO = 432 / 384
COLOUR_JITTER = 0.4  # brightness, contrast and saturation, as in MCIP

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Split:
    """Disjoint training and validation photos; labels keep indexing the full `class_names`."""

    train: tuple[Item, ...]
    validation: tuple[Item, ...]


@dataclass(frozen=True)
class TrainingData:
    """What the trainer needs from a folder of labelled photos.

    Attributes:
        train: photos to train on.
        validation: photos held out to evaluate retrieval on.
        class_names: display names; labels index this tuple.
        warnings: sentences about weaknesses of the data worth showing to the user (see `check_classes`).
    """

    train: tuple[Item, ...]
    validation: tuple[Item, ...]
    class_names: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def load_training_data(
    root: Path, val_fraction: float, seed: int, *, hold_out_classes: bool = False, min_images: int = 4
) -> TrainingData:
    """Scan `root` (a folder of class subfolders, or a labels manifest: a `.json` file, see `core.labels`),
    check its classes, and split it (by image, or by whole classes).

    Raises:
        FolderNotFoundError: `root` is not a folder (nor a manifest).
        UserError: the data cannot be trained on (see `check_classes`), the manifest cannot be read, or
            `val_fraction` is out of range.
    """
    is_manifest = root.suffix.lower() == MANIFEST_SUFFIX and not root.is_dir()
    items, class_names = scan_manifest(root) if is_manifest else scan_class_folders(root)
    warnings = check_classes(items, class_names, min_images)
    split = (split_by_class if hold_out_classes else split_by_image)(items, val_fraction, seed)
    return TrainingData(split.train, split.validation, class_names, tuple(warnings))


def scan_class_folders(root: Path, min_per_class: int = 2) -> tuple[list[Item], tuple[str, ...]]:
    """List the photos of a folder with one subfolder per class (photos may sit deeper inside it).

    Hidden files and folders are skipped. Classes with fewer than `min_per_class` photos are left out: they
    can neither be split nor give a positive pair. Class display names come from `classes.tsv` at the root
    when it has `wnid` and `name` columns, else from the folder names.

    Returns:
        The photos with their labels, sorted by class then path, and the class display names.

    Raises:
        FolderNotFoundError: `root` is not a folder.
    """
    if not root.is_dir():
        raise FolderNotFoundError(f"The training folder {str(root)!r} does not exist or is not a folder.")
    names = _display_names(root)
    items: list[Item] = []
    folders: list[str] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        photos = sorted(_photos_under(folder))
        if len(photos) < min_per_class:
            continue
        items.extend((photo, len(folders)) for photo in photos)
        folders.append(folder.name)
    return items, _unique_names(folders, names)


def scan_manifest(path: Path, min_per_class: int = 2) -> tuple[list[Item], tuple[str, ...]]:
    """List the photos of a labels manifest (`core.labels.write_manifest`) as `scan_class_folders` lists a
    folder: classes by name, photos by path, classes with fewer than `min_per_class` photos left out.

    Listed files that no longer exist are left out (and logged): the manifest was written from the catalog,
    and a photo deleted since must not fail the run, as it would not in a folder.

    Raises:
        UserError: the manifest cannot be read (see `core.labels.read_manifest`).
    """
    items: list[Item] = []
    names: list[str] = []
    missing = 0
    for name, listed in read_manifest(path).items():
        photos = sorted({photo for photo in listed if photo.is_file()})
        missing += len(set(listed)) - len(photos)
        if len(photos) >= min_per_class:
            items.extend((photo, len(names)) for photo in photos)
            names.append(name)
    if missing:
        gone = f"{plural(missing, 'photo')} listed in {path} no longer {'exists' if missing == 1 else 'exist'}"
        _log.warning("%s; training goes on without them", gone)
    return items, tuple(names)


def _photos_under(folder: Path) -> Iterable[Path]:
    for path in folder.rglob("*"):
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        if not hidden and path.suffix.lower() in PHOTO_EXTENSIONS and path.is_file():
            yield path


def _display_names(root: Path) -> dict[str, str]:
    table = root / CLASS_NAMES_FILE
    if not table.is_file():
        return {}
    with table.open(encoding="utf-8", newline="") as file:
        rows = csv.DictReader(file, delimiter="\t")
        if rows.fieldnames is None or not {"wnid", "name"} <= set(rows.fieldnames):
            return {}
        return {row["wnid"].strip(): row["name"].strip() for row in rows if row["wnid"] and row["name"]}


def _unique_names(folders: list[str], names: dict[str, str]) -> tuple[str, ...]:
    """Two folders may share a display name (WordNet has two 'crane's); keep them apart by folder name."""
    shown = [names.get(folder, folder) for folder in folders]
    counts = Counter(shown)
    pairs = zip(shown, folders, strict=True)
    return tuple(name if counts[name] == 1 else f"{name} ({folder})" for name, folder in pairs)


def split_by_image(items: Sequence[Item], val_fraction: float, seed: int) -> Split:
    """Hold out `val_fraction` of each class's photos (rounded, at least one when the class has two or more,
    never all of them), so every class appears on both sides in proportion.

    Each class is shuffled by its own generator seeded from (`seed`, label): the split of one class does not
    change when other classes are added or removed. The order of `items` does not matter.

    Raises:
        UserError: `val_fraction` is not in [0, 1).
    """
    _check_fraction(val_fraction)
    by_class = _group(items)
    train: list[Item] = []
    validation: list[Item] = []
    for label, members in by_class.items():
        order = np.random.default_rng([seed, label]).permutation(len(members))
        wanted = round(len(members) * val_fraction)
        n_val = 0 if val_fraction == 0 or len(members) < 2 else min(max(wanted, 1), len(members) - 1)
        validation.extend(members[i] for i in order[:n_val])
        train.extend(members[i] for i in order[n_val:])
    return Split(tuple(sorted(train)), tuple(sorted(validation)))


def split_by_class(items: Sequence[Item], val_fraction: float, seed: int) -> Split:
    """Hold out whole classes (`val_fraction` of them, rounded, at least one, never all), to measure how the
    model generalises to classes it never trained on.

    Raises:
        UserError: `val_fraction` is not in [0, 1), or there are fewer than two classes to divide.
    """
    _check_fraction(val_fraction)
    labels = sorted(_group(items))
    if val_fraction == 0:
        return Split(tuple(sorted(items)), ())
    if len(labels) < 2:
        raise UserError("Holding out whole classes for validation needs at least two classes.")
    n_val = min(max(round(len(labels) * val_fraction), 1), len(labels) - 1)
    held_out = {labels[i] for i in np.random.default_rng(seed).permutation(len(labels))[:n_val]}
    train = sorted(item for item in items if item[1] not in held_out)
    validation = sorted(item for item in items if item[1] in held_out)
    return Split(tuple(train), tuple(validation))


def _check_fraction(val_fraction: float) -> None:
    if not 0 <= val_fraction < 1:
        raise UserError(f"The validation fraction must be at least 0 and below 1; got {val_fraction}.")


def _group(items: Iterable[Item]) -> dict[int, list[Item]]:
    groups: dict[int, list[Item]] = {}
    for item in sorted(items):
        groups.setdefault(item[1], []).append(item)
    return dict(sorted(groups.items()))


def check_classes(items: Sequence[Item], class_names: Sequence[str], min_images: int = 4) -> list[str]:
    """Refuse data that cannot be fine-tuned on, and describe data that can but is weak
    (`core.labels.check_class_counts`, which the training wizard's checks share).

    Returns:
        Warnings, each a sentence for the user: a class with fewer than `min_images` photos (including
        empty ones), and a largest/smallest class ratio above `core.labels.IMBALANCE_RATIO`.

    Raises:
        UserError: there are no photos, or all of them belong to one class.
    """
    counts = Counter(label for _, label in items)
    found = check_class_counts({name: counts[label] for label, name in enumerate(class_names)}, min_images)
    errors = [f.message for f in found if f.severity == "error"]
    if errors:
        raise UserError(errors[0])
    return [f.message for f in found]


@dataclass(frozen=True)
class ImageTransform:
    """A photo-to-tensor transform plus the shortest side it needs, so JPEGs can be decoded at reduced size.

    Picklable (no closures), so DataLoader workers started by "spawn", the default on Windows and macOS,
    can receive it.

    Attributes:
        pipeline: RGB image in, (3, H, W) uint8 tensor out, squashed (`train_transform`).
        min_side: passed to `load_image`; smaller decodes would lose detail the transform keeps.
    """

    pipeline: Callable[[Image.Image], torch.Tensor]
    min_side: int

    def __call__(self, img: Image.Image) -> torch.Tensor:
        out = self.pipeline(img if img.mode == "RGB" else img.convert("RGB"))
        return out.as_subclass(torch.Tensor)  # torchvision returns its own Image subclass


_INTERPOLATION = {"bicubic": v2.InterpolationMode.BICUBIC, "bilinear": v2.InterpolationMode.BILINEAR}
GREY_WEIGHTS = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale, which its ColorJitter blends towards
DECODED_CACHE_BYTES = 1 << 30  # squashed training photos kept in memory by the in-process loader (see below)


def train_transform(spec: ModelSpec) -> ImageTransform:
    """The per-photo half of MCIP's stage (a) augmentation for `spec`: the squash, to uint8 (3, S, S).

    S is `spec.resize` or `TRAIN_RESIZE_RATIO` times the crop size, whichever is larger; the squash ignores
    `spec.resize_mode`, as MCIP squashes during training whatever the model's evaluation transform does.
    The random half (crop, flip, colour jitter) and the normalisation run on whole batches, on the training
    device, in `BatchAugment`: per photo on PIL images they cost three times the decode (0.32 ms against
    0.2 ms a 64 px photo, measured), which on a CPU run is time the model waits.
    """
    resize = max(spec.resize, round(spec.image_size * TRAIN_RESIZE_RATIO))
    pipeline = v2.Compose(
        [
            v2.Resize((resize, resize), interpolation=_INTERPOLATION[spec.interpolation], antialias=True),
            v2.PILToTensor(),
        ]
    )
    return ImageTransform(pipeline, resize)


@dataclass(frozen=True)
class BatchAugment:
    """MCIP's stage (a) augmentation of a batch of squashed photos (`train_transform`): random crop,
    horizontal flip, colour jitter (brightness, contrast, saturation), normalisation.

    Each photo draws its own crop, flip and jitter factors, as torchvision's per-photo transforms would; the
    order of the three jitters (random in torchvision) is drawn once per batch, which keeps them whole-batch
    operations. Random numbers come from torch's global generator, like the per-photo transforms before.
    """

    crop: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    jitter: float = COLOUR_JITTER

    @classmethod
    def for_spec(cls, spec: ModelSpec) -> BatchAugment:
        return cls(spec.image_size, tuple(spec.mean), tuple(spec.std))

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (B, 3, S, S) on any device in, float32 (B, 3, crop, crop) normalised out, on the same device."""
        n, _, height, width = images.shape
        tops = torch.randint(0, height - self.crop + 1, (n,)).tolist()
        lefts = torch.randint(0, width - self.crop + 1, (n,)).tolist()
        crops = [img[:, t : t + self.crop, x : x + self.crop] for img, t, x in zip(images, tops, lefts, strict=True)]
        out = torch.stack(crops) if crops else images[:, :, : self.crop, : self.crop]
        flipped = (torch.rand(n) < 0.5).to(images.device)
        out = torch.where(flipped[:, None, None, None], out.flip(3), out).float().div_(255)
        for jitter in torch.randperm(3).tolist():
            factor = torch.empty(n, 1, 1, 1).uniform_(1 - self.jitter, 1 + self.jitter).to(images.device)
            if jitter == 0:  # brightness: towards black
                out = out.mul_(factor)
            elif jitter == 1:  # contrast: towards the photo's mean grey
                out = torch.lerp(_grey(out).mean(dim=(1, 2, 3), keepdim=True), out, factor)
            else:  # saturation: towards the photo in grey
                out = torch.lerp(_grey(out), out, factor)
            out = out.clamp_(0, 1)
        mean = torch.tensor(self.mean, device=images.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=images.device).view(1, -1, 1, 1)
        return out.sub_(mean).div_(std)


def _grey(images: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) luminance of float RGB photos."""
    weights = torch.tensor(GREY_WEIGHTS, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


Sample = tuple[torch.Tensor | None, int, int]
"""(image or None if it could not be read, label, index into the dataset)."""


@dataclass(frozen=True)
class Batch:
    """A collated batch without the photos that failed to load.

    Attributes:
        images: (B, 3, H, W) as the dataset's transform gives them; B may be 0 when every photo in the
            batch failed (then H = W = 0).
        labels: int64 (B,).
        indices: int64 (B,), dataset indices of the photos, e.g. to look up their pseudo-captions.
        failed: dataset indices of the photos that could not be read.
    """

    images: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    failed: tuple[int, ...]


class LabelledImageDataset(Dataset[Sample]):
    """Labelled photos decoded with `core.imageio.load_image` and transformed.

    A file that cannot be read yields `(None, label, index)` instead of raising, and `collate_skip_failed`
    leaves it out of the batch. This was chosen over decoding every file up front to drop the bad ones:
    that would decode a whole collection twice before the first step, for the sake of a few broken files
    that the indexer records anyway. The cost is that a batch may come out smaller than asked.

    With `cache_bytes`, transformed photos are kept in memory until that many bytes are held, so later
    epochs skip their decode. Only the in-process loader gains from it (a CPU run, where decoding takes
    the model's cores): a worker process would hold its own copy and is started anew each epoch.
    """

    def __init__(self, items: Sequence[Item], transform: ImageTransform, cache_bytes: int = 0) -> None:
        self.items = tuple(items)
        self.transform = transform
        self._cache: dict[int, torch.Tensor] = {}
        self._room = cache_bytes

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Sample:
        path, label = self.items[index]
        cached = self._cache.get(index)
        if cached is not None:
            return cached, label, index
        try:
            img, _ = load_image(path, self.transform.min_side)
        except ImageError as exc:
            _log.warning("skipping %s: %s", path, exc)
            return None, label, index
        out = self.transform(img)
        size = out.numel() * out.element_size()
        if size <= self._room:
            self._cache[index], self._room = out, self._room - size
        return out, label, index


def collate_skip_failed(samples: Sequence[Sample]) -> Batch:
    """DataLoader `collate_fn` for `LabelledImageDataset`: stack the photos that loaded, list those that did not."""
    kept = [(img, label, index) for img, label, index in samples if img is not None]
    failed = tuple(index for img, _, index in samples if img is None)
    images = torch.stack([img for img, _, _ in kept]) if kept else torch.zeros((0, 3, 0, 0), dtype=torch.uint8)
    labels = torch.tensor([label for _, label, _ in kept], dtype=torch.int64)
    indices = torch.tensor([index for _, _, index in kept], dtype=torch.int64)
    return Batch(images, labels, indices, failed)
