"""What the duplicate search returns and stores, as frozen records."""

from __future__ import annotations

from dataclasses import dataclass, field

from photosift.core.wording import plural


@dataclass(frozen=True)
class Signature:
    """What a photo's pixels say, for the pairs its embedding leaves open and the choice of a best copy.

    Attributes:
        phash: 64-bit DCT perceptual hash (as a signed int64), None where the file could not be read.
        sharpness: variance of the Laplacian of a small grey thumbnail; higher is sharper.
        crop_hashes: pHashes of windows inside the photo (`signatures.CROP_WINDOWS`): a crop of another
            photo hashes like one of them. Empty where the file could not be read.
    """

    phash: int | None
    sharpness: float | None
    crop_hashes: tuple[int, ...] = ()


@dataclass(frozen=True)
class FoundGroup:
    """A group as a search found it: photos with the suggested best copy first, and each one's similarity
    to that copy."""

    photo_ids: tuple[int, ...]
    similarities: tuple[float, ...]


@dataclass(frozen=True)
class Findings:
    """What the reading part of a duplicate search found, for a writer to store (`Duplicates.save`).

    Attributes:
        photos: embedded photos compared.
        candidate_pairs, confirmed_pairs: as in `DuplicateReport`.
        groups: the groups found; None when the search stopped before grouping (a cancel while reading
            photos), so that storing these findings keeps the earlier groups and only adds the signatures.
        new_signatures: signatures read from the photos' files in this search, not stored yet.
        elapsed_s: wall time of the reading part.
    """

    photos: int
    candidate_pairs: int
    confirmed_pairs: int
    groups: tuple[FoundGroup, ...] | None
    new_signatures: dict[int, Signature] = field(default_factory=dict)
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class DuplicateMember:
    """One photo of a group.

    Attributes:
        similarity: cosine similarity of its embedding to the best copy's (1.0 for the best copy).
        duplicate: marked as a duplicate of the best copy; the best copy never is.
        by_user: the mark is the person's, and a new search keeps it.
    """

    photo_id: int
    path: str
    width: int | None
    height: int | None
    similarity: float
    duplicate: bool
    by_user: bool


@dataclass(frozen=True)
class DuplicateGroup:
    """Near-duplicate photos, the best copy first (largest, then sharpest, then earliest)."""

    id: int
    best_photo_id: int | None
    members: tuple[DuplicateMember, ...]

    @property
    def reviewed(self) -> bool:
        """Whether the person has given their word on every photo of the group."""
        return all(m.by_user for m in self.members)


@dataclass(frozen=True)
class DuplicateReport:
    """What a duplicate search found.

    Attributes:
        photos: embedded photos compared.
        candidate_pairs: pairs whose embeddings were similar enough to look at.
        confirmed_pairs: pairs kept (by the embedding alone, or with the perceptual hash agreeing).
        groups: groups of two or more photos.
        duplicates: photos marked as duplicates (every member but the best copy, unless the person said otherwise).
        hashed: photos decoded for a perceptual hash in this run (the others were known from earlier runs).
        elapsed_s: wall time of the search.
    """

    photos: int
    candidate_pairs: int
    confirmed_pairs: int
    groups: int
    duplicates: int
    hashed: int
    elapsed_s: float

    def summary(self) -> str:
        """What the search found, in one sentence (the command line and the window both say it)."""
        if not self.groups:
            return f"No near-duplicates among {plural(self.photos, 'photo')} ({self.elapsed_s:.1f} s)."
        return (
            f"Found {plural(self.groups, 'group')} of near-duplicates among {plural(self.photos, 'photo')} "
            f"in {self.elapsed_s:.1f} s: {plural(self.duplicates, 'photo')} marked as "
            + ("a duplicate." if self.duplicates == 1 else "duplicates.")
        )
