"""Live charts of a training run, drawn with pyqtgraph from the trainer's "step" and "eval" lines.

Left: the loss and its parts against the step (stage (a)'s ArcMargin and MCArcMargin, stage (b)'s InfoNCE
after it), so a diverging or flat loss is visible at once. Right: image-to-image mAP on the held-out
photos before training (epoch 0) and after each epoch, the number early stopping watches. Plain
QPainter widgets, no OpenGL, so they also render offscreen and over remote desktops.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QWidget

# Loss parts in the trainer's "step" lines, with their legend names and colours (colour-blind safe, Okabe-Ito;
# None: the text colour, so the total reads on light and dark themes alike).
LOSS_PARTS: dict[str, tuple[str, str | None]] = {
    "loss": ("total", None),
    "loss_am": ("ArcMargin (classes)", "#0072B2"),
    "loss_mc": ("MCArcMargin (captions)", "#E69F00"),
    "loss_nce": ("InfoNCE (text re-alignment)", "#009E73"),
}
MAP_COLOUR = "#D55E00"


class TrainingCharts(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        background = self.palette().color(QPalette.ColorRole.Base)
        foreground = self._foreground = self.palette().color(QPalette.ColorRole.Text)
        self.loss_plot = _plot("Loss", "step", background, foreground)
        self.loss_plot.addLegend(offset=(-10, 10), labelTextColor=foreground)
        self.map_plot = _plot("Held-out mAP", "epoch", background, foreground)
        self._points: dict[str, tuple[list[float], list[float]]] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._map: tuple[list[float], list[float]] = ([], [])
        self._map_curve = self.map_plot.plot(
            [], [], pen=pg.mkPen(MAP_COLOUR, width=2), symbol="o", symbolBrush=MAP_COLOUR, symbolSize=7
        )
        self._stage_a_steps = 0  # stage (b) counts its steps from 1; they are drawn after stage (a)'s
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.map_plot, 2)

    def clear(self) -> None:
        for curve in self._curves.values():
            self.loss_plot.removeItem(curve)
        self.loss_plot.plotItem.legend.clear()
        self._points, self._curves, self._map, self._stage_a_steps = {}, {}, ([], []), 0
        self._map_curve.setData([], [])

    def add_step(self, event: dict[str, Any]) -> None:
        """One "step" line: a point on each loss part it carries."""
        step = float(event["step"])
        if event.get("stage") == "b":
            step += self._stage_a_steps
        else:
            self._stage_a_steps = max(self._stage_a_steps, int(event["step"]))
        for part, (name, colour) in LOSS_PARTS.items():
            if part in event and event[part] is not None:
                xs, ys = self._points.setdefault(part, ([], []))
                xs.append(step)
                ys.append(float(event[part]))
                if part not in self._curves:
                    pen = colour or self._foreground  # points as well as lines: a short run logs few steps
                    self._curves[part] = self.loss_plot.plot(
                        [], [], pen=pg.mkPen(pen, width=2), symbol="o", symbolSize=5, symbolBrush=pen, name=name
                    )
                self._curves[part].setData(xs, ys)

    def add_eval(self, event: dict[str, Any]) -> None:
        """One "eval" line: "before" is epoch 0, "epoch N" is N; the final "after" repeats the best epoch."""
        when = str(event.get("when", ""))
        epoch = 0 if when == "before" else int(when.split()[1]) if when.startswith("epoch ") else None
        if epoch is None:
            return
        xs, ys = self._map
        if epoch in xs:  # a resumed run evaluates its last epoch again
            ys[xs.index(epoch)] = float(event["map"])
        else:
            xs.append(float(epoch))
            ys.append(float(event["map"]))
        self._map_curve.setData(xs, ys)

    def curve_lengths(self) -> dict[str, int]:
        """Points drawn per loss part and for mAP (tests and screenshots check the charts filled)."""
        return {part: len(xs) for part, (xs, _) in self._points.items()} | {"map": len(self._map[0])}


def _plot(title: str, x_label: str, background: Any, foreground: Any) -> pg.PlotWidget:
    plot = pg.PlotWidget(background=background)
    plot.setTitle(title, color=foreground)
    plot.setLabel("bottom", x_label)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setMinimumHeight(180)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTextPen(foreground)
        plot.getAxis(axis).setPen(foreground)
    return plot
