"""What the results view's size and the chosen thumbnail size make of the justified layout (`justified`),
handed from the view (`results_grid`) to the model (`results_model`), which sizes every cell by it."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtGui import QColor


@dataclass(frozen=True)
class GridGeometry:
    """What the view's size and the thumbnail size make of the justified layout.

    Attributes:
        line: the width the view wraps its lines at, in pixels.
        height: the target height of a line of photos (the thumbnail size chosen in the View menu).
        spacing: pixels around every cell.
        caption: pixels below each photo for its name (0: names show on hover only).
        ratio: the screen's device pixel ratio, so scaled pictures stay sharp.
        highlight: the colour a selected photo is framed in (the palette's).
    """

    line: int = 0
    height: int = 160
    spacing: int = 8
    caption: int = 0
    ratio: float = 1.0
    highlight: QColor = field(default_factory=lambda: QColor(42, 130, 218))
