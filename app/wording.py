"""Words the command line and the window share: a count with its noun, so neither says "1 photos", and the
sentences both say."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from photosift.core.duplicates.records import DuplicateReport


def plural(count: int, noun: str) -> str:
    """'1 photo', '1,204 photos' (our nouns are all regular)."""
    return f"{count:,} {noun if count == 1 else noun + 's'}"


def duplicates_found(report: DuplicateReport) -> str:
    """What a search for near-duplicates found, in one sentence."""
    if not report.groups:
        return f"No near-duplicates among {plural(report.photos, 'photo')} ({report.elapsed_s:.1f} s)."
    return (
        f"Found {plural(report.groups, 'group')} of near-duplicates among {plural(report.photos, 'photo')} "
        f"in {report.elapsed_s:.1f} s: {plural(report.duplicates, 'photo')} marked as duplicates."
    )
