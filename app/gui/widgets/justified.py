"""The justified layout of the results grid: rows of equal height, each photo at its own aspect ratio.

As in Google Photos and Flickr, photos fill a line at a target height; a full line is then scaled
(up or down, keeping every aspect ratio) until it spans the width exactly, so there are no gaps and no
letterboxing. A section's last line keeps the target height and stays left-aligned. Month headings
(`None` entries) take a line of their own and start a new section.

Pure arithmetic over a list, O(rows) and Qt-free, so 100,000 results relayout in a blink. The widths
are those Qt's icon-mode list view wraps by (`ResultsView`): `spacing` before the first cell and after
every cell, and a line wraps when its next cell would end past `line - 1`; filling a line exactly to
that point therefore makes the view break lines where this module does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_ASPECT = 0.25  # a photo narrower than this is cropped to it: a sliver would be unrecognisable
MAX_ASPECT = 4.0  # a wider panorama is cropped to this, so it does not squash its line into a strip
# A full line that would grow more than this above the target height keeps its last photo and shrinks
# instead: unbounded, a narrow window made 320 px lines 500-600 px tall, and the thumbnails' tiers
# (`thumbnails`) are sized for the tallest line. 1.25 keeps lines as even as before in windows 1400 px
# and wider and costs a little evenness in narrow ones (more lines shrink).
MAX_GROWTH = 1.25


@dataclass(frozen=True)
class Layout:
    """Where the laid-out entries went.

    Attributes:
        sizes: (width, height) in pixels of every entry, in order (a heading: the full line, `heading`).
        lines: the index of the first entry of every line, in order.
    """

    sizes: list[tuple[int, int]]
    lines: list[int]


def clamp_aspect(aspect: float | None) -> float:
    """The width/height ratio a photo's cell gets (unknown sizes get a square cell)."""
    return 1.0 if aspect is None or aspect <= 0 else min(MAX_ASPECT, max(MIN_ASPECT, aspect))


def justify(aspects: Sequence[float | None], line: int, height: int, spacing: int, heading: int) -> Layout:
    """Lay out `aspects` (width/height of each photo; None for a heading) in lines of width `line`.

    Args:
        line: the width the view wraps at (its layout bounds), in pixels.
        height: the target height of a line of photos; full lines come out within a cell of it.
        spacing: pixels around every cell, as the view places them.
        heading: the height of a heading's line.
    """
    sizes: list[tuple[int, int]] = []
    lines: list[int] = []
    pending: list[float] = []  # the aspects of the line being filled

    def close(full: bool) -> None:
        if pending:
            lines.append(len(sizes))
            sizes.extend(_fit(pending, line - 1 - (len(pending) + 1) * spacing, height, full))
            pending.clear()

    for aspect in aspects:
        if aspect is None:
            close(full=False)
            lines.append(len(sizes))
            sizes.append((max(1, line - 1 - 2 * spacing), heading))
            continue
        pending.append(clamp_aspect(aspect))
        room = line - 1 - (len(pending) + 1) * spacing
        if sum(pending) * height >= room:  # the line is full at the target height
            if len(pending) > 1 and _closer_without_last(pending, room, spacing, height):
                last = pending.pop()  # the line grows a little without it, rather than shrink a lot
                close(full=True)
                pending.append(last)
            else:
                close(full=True)
    close(full=False)
    return Layout(sizes, lines)


def _closer_without_last(aspects: list[float], room: int, spacing: int, height: int) -> bool:
    """Whether a full line comes nearer `height` (as a ratio) without its last photo, stretched taller
    (by MAX_GROWTH at most), than with it, shrunk to `room`."""
    with_last = room / sum(aspects)
    without = (room + spacing) / (sum(aspects) - aspects[-1])
    return without / height < height / with_last and round(without) <= MAX_GROWTH * height


def _fit(aspects: list[float], room: int, height: int, full: bool) -> list[tuple[int, int]]:
    """Cells for one line: a full line scaled to span `room` exactly, a last line at `height`."""
    room = max(room, len(aspects))
    line_height = max(1, round(room / sum(aspects))) if full else height
    widths = [max(1, round(a * line_height)) for a in aspects]
    if full:  # rounding must leave no pixel's gap, nor push the last cell onto the next line
        _spread(widths, room - sum(widths))
    return [(w, line_height) for w in widths]


def _spread(widths: list[int], extra: int) -> None:
    """Add `extra` pixels (take them, when negative) one at a time over the widest cells, whose shape a
    pixel changes least."""
    widest = sorted(range(len(widths)), key=lambda i: -widths[i])
    for k in range(abs(extra)):
        i = widest[k % len(widest)]
        widths[i] = max(1, widths[i] + (1 if extra > 0 else -1))
