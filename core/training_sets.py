"""Labelled photo sets for fine-tuning, made from the library's own labels: photo folders as classes, the
user's accepted tags, or albums. The training wizard shows a set's classes, counts and warnings, lets the
user leave classes out, and hands the set to the trainer's own process as a manifest file.

A photo trains as one class (ArcMargin gives each sample one target), so a photo in several classes of a
set is left out of training rather than given to one of them by a rule the user cannot see: it would teach
the model that the photo is *not* what its other label says. Leaving a class out (`LabelledSet.without`)
gives its shared photos back to the other class.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from photosift.core.atomic import write_text
from photosift.core.catalog.catalog import absolute_path
from photosift.core.catalog.photo_files import PhotoFile, photo_files
from photosift.core.errors import QueryError, UserError
from photosift.core.wording import plural

if TYPE_CHECKING:
    from photosift.core.albums.store import AlbumInfo
    from photosift.core.catalog import Catalog
    from photosift.core.settings import Paths

LabelSource = Literal["folders", "parent-folders", "tags", "albums"]
Severity = Literal["error", "warning"]

MANIFEST_VERSION = 1
MANIFEST_SUFFIX = ".json"
MIN_PER_CLASS = 4  # photos a class needs to be learnt reliably: a few to train on and one held out
MIN_TO_SPLIT = 2  # below this a class can neither be split nor give a positive pair: training leaves it out
IMBALANCE_RATIO = 10  # largest/smallest class above this: the loss is dominated by the big classes
MIN_TOTAL_PHOTOS = 20  # below this the held-out fifth is a handful of photos: before/after scores are noise
MAX_LISTED = 10  # class names quoted in one message; more would drown it

NO_PHOTOS = (
    "No photos found to fine-tune on: a class is a sub-folder, an accepted tag or an album of two photos or more."
)
SOURCE_WORDS = {"folders": "folders", "parent-folders": "folder names", "tags": "accepted tags", "albums": "albums"}
_NOTHING_LABELLED = {
    "folders": "The library has no photos yet: add a folder with one sub-folder of photos per class.",
    "parent-folders": "The library has no photos yet: add a folder whose photos sit in one folder per class.",
    "tags": "No tags have been accepted yet: accept tags on photos to label them, one tag per class.",
    "albums": "There are no albums yet: put photos in albums, one album per class.",
}


class TagLabels(Protocol):
    """The tags the user accepted on photos (`core.tags.service.TagService`)."""

    def labelled_photos(self, accepted: bool = True) -> dict[str, list[int]]: ...


class AlbumLabels(Protocol):
    """The albums and their photos now (`core.albums.service.Albums`)."""

    def list_all(self) -> list[AlbumInfo]: ...

    def photo_ids(self, name: str) -> set[int]: ...


class LabelSources(Protocol):
    """What a labelled set reads of its library (`core.library.Library`): every photo's files and folders
    (the catalog), the accepted tags and the albums."""

    @property
    def catalog(self) -> Catalog: ...

    @property
    def tags(self) -> TagLabels: ...

    @property
    def albums(self) -> AlbumLabels: ...


class ManifestPlace(Protocol):
    """What writing a manifest reads of its library (`core.library.Library`): the catalog (each photo's
    readable file, and the watched folders it never writes into) and the data folder (`labels/`)."""

    @property
    def catalog(self) -> Catalog: ...

    @property
    def paths(self) -> Paths: ...


@dataclass(frozen=True)
class LabelledClass:
    """One class of a labelled set.

    Attributes:
        photo_ids: the photos with this label that training can read, ascending; they may be in other
            classes of the set too (see `LabelledSet.exclusive`).
        unavailable: photos with this label left out because they could not be read when indexed, or
            their folder was offline at its last scan.
        problem: why the class has no photos although it might (a smart album whose search fails).
    """

    name: str
    photo_ids: tuple[int, ...]
    unavailable: int = 0
    problem: str | None = None


@dataclass(frozen=True)
class LabelledSet:
    """Classes of library photos from one source, by name (ignoring case)."""

    source: LabelSource
    classes: tuple[LabelledClass, ...]

    @property
    def total(self) -> int:
        """Distinct photos in the set; a photo in several classes counts once."""
        return len({i for c in self.classes for i in c.photo_ids})

    def shared_photo_ids(self) -> frozenset[int]:
        """Photos in more than one class: training leaves them out."""
        counts = Counter(i for c in self.classes for i in c.photo_ids)
        return frozenset(i for i, n in counts.items() if n > 1)

    def exclusive(self) -> LabelledSet:
        """The set as training sees it: each class without the photos it shares with another."""
        shared = self.shared_photo_ids()
        classes = (replace(c, photo_ids=tuple(i for i in c.photo_ids if i not in shared)) for c in self.classes)
        return replace(self, classes=tuple(classes))

    def without(self, names: Iterable[str]) -> LabelledSet:
        """The set without the named classes. A name matches its class exactly, or else ignoring case.

        Raises:
            UserError: a name matches no class of the set.
        """
        dropped: set[str] = set()
        for name in names:
            matches = {c.name for c in self.classes if c.name == name} or {
                c.name for c in self.classes if c.name.casefold() == name.casefold()
            }
            if not matches:
                known = _listed([repr(c.name) for c in self.classes]) or "none"
                raise UserError(f"There is no class {name!r} among the {SOURCE_WORDS[self.source]}: {known}.")
            dropped |= matches
        return replace(self, classes=tuple(c for c in self.classes if c.name not in dropped))


@dataclass(frozen=True)
class LabelWarning:
    """A finding about a labelled set, as a sentence for the user.

    Attributes:
        severity: "error" when the set cannot be trained on, "warning" when it can but is weak.
        class_name: the class it is about, or None when it is about the whole set.
    """

    severity: Severity
    class_name: str | None
    message: str


def labelled_set(library: LabelSources, source: LabelSource) -> LabelledSet:
    """The classes the library's labels of one kind make, by name (ignoring case).

    - "folders": a class per sub-folder of a watched folder, holding the photos anywhere below it; photos
      directly inside a watched folder form a class named after it (so watching one folder per class works
      too). Sub-folders of the same name under different watched folders are one class.
    - "parent-folders": a class per name of the folders that hold photos, each photo in the class of the
      folder it is in: for sets split above their classes (`train/ants`, `val/ants`: one class "ants") and
      for folders nested by year or trip (`2023/Paris`).
    - "tags": a class per tag the user accepted for at least one photo, holding those photos. Only the
      user's own labels count: automatic tags are guesses, and training on them would teach the model
      its own mistakes.
    - "albums": a class per album: a manual album's photos, or a smart album's photos now (its search is
      run once here; a smart album whose search fails has no photos and says why in `problem`).

    Only photos that training can read count (see `LabelledClass.unavailable`). A photo may be in several
    classes here; `exclusive` and `check_labelled_set` say what training makes of that.
    """
    files = photo_files(library.catalog.engine)
    members: dict[str, tuple[set[int], str | None]]
    if source in ("folders", "parent-folders"):
        members = {name: (ids, None) for name, ids in _folder_members(files, source == "parent-folders").items()}
    elif source == "tags":
        members = {name: (set(ids), None) for name, ids in library.tags.labelled_photos(True).items()}
    else:
        members = _album_members(library.albums)
    available = {f.photo_id for f in files if f.available}
    classes = (
        LabelledClass(name, tuple(sorted(ids & available)), len(ids - available), problem)
        for name, (ids, problem) in sorted(members.items(), key=lambda kv: (kv[0].casefold(), kv[0]))
    )
    return LabelledSet(source, tuple(classes))


def _folder_members(files: Iterable[PhotoFile], parents: bool) -> dict[str, set[int]]:
    """Photos by the name of their folder below the watched one: the first level, or with `parents` the
    folder each is in; photos directly inside a watched folder go by its name either way."""
    members: dict[str, set[int]] = {}
    for file in files:
        parts = Path(os.path.relpath(file.path, file.folder)).parts
        name = (parts[-2] if parents else parts[0]) if len(parts) > 1 else (Path(file.folder).name or file.folder)
        members.setdefault(name, set()).add(file.photo_id)
    return members


def _album_members(albums: AlbumLabels) -> dict[str, tuple[set[int], str | None]]:
    members: dict[str, tuple[set[int], str | None]] = {}
    for album in albums.list_all():
        try:
            members[album.name] = (albums.photo_ids(album.name), None)
        except QueryError as exc:  # one broken smart album must not hide the others
            members[album.name] = (set(), str(exc))
    return members


def check_labelled_set(labelled: LabelledSet, min_per_class: int = MIN_PER_CLASS) -> list[LabelWarning]:
    """What is wrong with training on `labelled`, errors first, judged on the set as training sees it
    (`exclusive`): `check_class_counts`, plus the photos left out (shared by classes, unreadable or
    offline, in a broken smart album) and too few photos in all (below `MIN_TOTAL_PHOTOS`)."""
    if not labelled.classes:
        return [LabelWarning("error", None, _NOTHING_LABELLED[labelled.source])]
    found = [
        LabelWarning("warning", c.name, f"{c.name!r} is left out: {c.problem}") for c in labelled.classes if c.problem
    ]
    unavailable = sum(c.unavailable for c in labelled.classes)
    if unavailable:
        found.append(
            LabelWarning(
                "warning",
                None,
                f"Left out: {plural(unavailable, 'photo')} with these labels that could not be read when indexed, or "
                "whose folder is offline.",
            )
        )
    shared = len(labelled.shared_photo_ids())
    if shared:
        found.append(
            LabelWarning(
                "warning",
                None,
                f"Left out: {plural(shared, 'photo')} in more than one class, as a photo trains as one class. "
                "Leave one of those classes out to keep its photos in the other.",
            )
        )
    counts = {c.name: len(c.photo_ids) for c in labelled.exclusive().classes if not c.problem}
    found = check_class_counts(counts, min_per_class) + found
    total = sum(n for n in counts.values() if n >= MIN_TO_SPLIT)  # what training keeps
    if 0 < total < MIN_TOTAL_PHOTOS:
        found.append(
            LabelWarning(
                "warning",
                None,
                f"Only {plural(total, 'photo')} to train on: fine-tuning on so few rarely helps, and the handful held "
                "out to measure it gives unreliable scores.",
            )
        )
    return sorted(found, key=lambda w: w.severity != "error")  # stable: errors first, each in its order


def check_class_counts(counts: Mapping[str, int], min_per_class: int = MIN_PER_CLASS) -> list[LabelWarning]:
    """Refuse class sizes that cannot be fine-tuned on and describe weak ones; the trainer checks the
    classes it reads with this too.

    Returns:
        Errors: no photos at all; fewer than two classes of at least `MIN_TO_SPLIT` photos. Warnings: each
        class below `MIN_TO_SPLIT` (training leaves it out) or below `min_per_class` (kept, but weak); a
        largest/smallest ratio above `IMBALANCE_RATIO` among the classes kept.
    """
    kept = {name: n for name, n in counts.items() if n >= MIN_TO_SPLIT}
    found: list[LabelWarning] = []
    if not any(counts.values()):
        found.append(LabelWarning("error", None, NO_PHOTOS))
    elif len(kept) < 2:
        only = f"found only {next(iter(kept))!r}" if kept else "none has two photos or more"
        found.append(LabelWarning("error", None, f"Fine-tuning needs at least two classes; {only}."))
    for name, n in counts.items():
        if n < MIN_TO_SPLIT:
            reason = "a class needs at least two, one to learn from and one to check against"
            message = f"{name!r} has {plural(n, 'photo')}: it is left out ({reason})."
            found.append(LabelWarning("warning", name, message))
        elif n < min_per_class:
            advised = f"at least {min_per_class} advised"
            message = f"{name!r} has only {plural(n, 'photo')}, too few to learn it reliably ({advised})."
            found.append(LabelWarning("warning", name, message))
    if len(kept) >= 2:
        (large, most), (small, fewest) = max(kept.items(), key=_size), min(kept.items(), key=_size)
        if most > IMBALANCE_RATIO * fewest:
            message = (
                f"The classes are very unbalanced: {large!r} has {most} photos but {small!r} only {fewest}; "
                "the large classes will dominate training."
            )
            found.append(LabelWarning("warning", None, message))
    return found


def _size(item: tuple[str, int]) -> int:
    return item[1]


def _listed(names: list[str]) -> str:
    more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return ", ".join(names[:MAX_LISTED]) + more


# The manifest: a labelled set as files, for the trainer's own process ---------------------------------------


def write_manifest(library: ManifestPlace, labelled: LabelledSet, path: Path | None = None) -> Path:
    """Write the set as training sees it (`exclusive`) for `python -m photosift.training --data MANIFEST`:
    `{"version": 1, "source": ..., "classes": {name: [absolute file paths]}}`, a readable file per photo.

    Written atomically, so a trainer never reads half a file.

    Args:
        path: where to write; by default a new file in the data folder's `labels/`.

    Returns:
        The path written.

    Raises:
        UserError: `path` lies inside a watched photo folder (Photosift never writes there).
        EnvironmentFault: the file could not be written.
    """
    stamp = f"{labelled.source}-{datetime.now():%Y%m%d-%H%M%S}{MANIFEST_SUFFIX}"
    target = Path(absolute_path(path)) if path is not None else library.paths.labels / stamp
    for folder in library.catalog.folders():
        if target.is_relative_to(folder.path):
            raise UserError(f"Labels are not written into photo folders: choose a file outside {folder.path}.")
    readable: dict[int, str] = {}
    for file in photo_files(library.catalog.engine):
        if file.available:
            readable.setdefault(file.photo_id, file.path)  # files come by path: the first one, every time
    classes = {c.name: [readable[i] for i in c.photo_ids if i in readable] for c in labelled.exclusive().classes}
    data = {"version": MANIFEST_VERSION, "source": labelled.source, "classes": {k: v for k, v in classes.items() if v}}
    write_text(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n", f"the labels file {target.name}")
    return target


def read_manifest(path: Path) -> dict[str, tuple[Path, ...]]:
    """The classes of a manifest (from `write_manifest`, or written by hand) by name, with their files as
    listed; relative paths are taken from the manifest's folder.

    Raises:
        UserError: the file cannot be read, is not JSON, is not a version 1 manifest, or lists its classes
            in another shape.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"The labels file {path} does not exist.") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"The labels file {path} could not be read ({exc}).") from exc
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        raise UserError(f"{path} is not a Photosift labels file of version {MANIFEST_VERSION}.")
    classes = data.get("classes")
    if not isinstance(classes, dict) or not all(
        isinstance(files, list) and all(isinstance(f, str) for f in files) for files in classes.values()
    ):
        raise UserError(f'The labels file {path} needs "classes": a mapping of class names to lists of file paths.')
    return {name: tuple(path.parent / f for f in classes[name]) for name in sorted(classes)}
