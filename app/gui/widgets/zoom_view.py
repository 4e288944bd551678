"""The viewer's image area: a picture fitted to the window, or zoomed and panned by dragging or scrolling.

The scene is laid out in the photo's own pixels even when the pixmap on show is smaller (a thumbnail, or a
photo decoded at screen size), so zoom levels mean the same thing whichever picture is in place and a
sharper one can replace it without moving the view.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap, QResizeEvent, QTransform, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

ZOOM_STEP = 1.25  # one key press or wheel notch; three steps roughly double the size
MIN_ZOOM = 0.02  # photo pixels per screen pixel: a 50-fold reduction shows any photo whole
MAX_ZOOM = 32.0  # far enough to judge single pixels; beyond it the view only shows flat squares
# From this zoom up, pixels are drawn as sharp squares: smoothing would blur exactly what the user came to see.
CRISP_ZOOM = 2.0
BACKDROP = "#1c1c1c"  # the colour around the photo
WHEEL_NOTCH = 120  # angleDelta units of one mouse-wheel notch (Qt's documented eighths of a degree x 15)


class ZoomView(QGraphicsView):
    """Shows one picture, fitted to the view until the user zooms.

    Zoom levels count device pixels per photo pixel, so 1.0 is "actual pixels" on high-DPI screens too.
    """

    zoom_changed = Signal()  # the zoom level or fit state changed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self._fitted = True
        self._photo_size: QSize | None = None
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the viewer handles every key, arrows included
        # Dark in both themes, as in every photo viewer: a light surround makes photos look washed out.
        # A brush of its own, so the theme's palette does not reach it.
        self.setBackgroundBrush(QColor(BACKDROP))
        self.setAccessibleName("Photo")

    # Pictures ---------------------------------------------------------------------------------------

    def show_picture(self, pixmap: QPixmap, photo_size: QSize | None, keep_view: bool = False) -> None:
        """Show `pixmap` as a photo of `photo_size` pixels (None: unknown, e.g. a thumbnail as a stand-in).

        With `keep_view`, the zoom and scroll position stay (a sharper copy of the picture on show);
        otherwise the picture is fitted to the view.
        """
        self._photo_size = photo_size
        self._item.setPixmap(pixmap)
        scale = photo_size.width() / pixmap.width() if photo_size and pixmap.width() else 1.0
        self._item.setScale(scale)
        self.setSceneRect(self._item.sceneBoundingRect())
        if keep_view and not self._fitted:
            self._set_scale(self.transform().m11())  # the same zoom, drawn crisp or smooth for the new pixels
        else:
            self.fit()

    def clear(self) -> None:
        self._item.setPixmap(QPixmap())
        self._photo_size = None
        self.setSceneRect(self._item.sceneBoundingRect())

    def pixmap(self) -> QPixmap:
        return self._item.pixmap()

    # Zooming ----------------------------------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        """Whether the picture follows the view's size (as opposed to a zoom level the user chose)."""
        return self._fitted

    @property
    def zoom(self) -> float | None:
        """Device pixels per photo pixel, or None while the photo's size is unknown."""
        return None if self._photo_size is None else self.transform().m11() * self.devicePixelRatioF()

    def fit(self) -> None:
        """Fit the whole picture in the view, and keep it fitted on resizes.

        A photo smaller than the view is shown at 100 %, not enlarged (a 64-pixel photo opened at
        1122 %, blurred beyond recognition); a stand-in thumbnail, whose photo's size is not known yet,
        is enlarged so that the photo does not jump in size when it arrives.
        """
        self._fitted = True
        self._set_policy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the viewport then has its full size
        rect = self._item.sceneBoundingRect()
        view = self.viewport().size()
        if rect.isEmpty() or view.isEmpty():
            return
        scale = min(view.width() / rect.width(), view.height() / rect.height())
        if self._photo_size is not None:
            scale = min(scale, 1 / self.devicePixelRatioF())
        self._set_scale(scale)

    def set_zoom(self, zoom: float, under_mouse: bool = False) -> None:
        """Zoom to `zoom` device pixels per photo pixel, about the view's centre or the mouse pointer."""
        self._fitted = False
        self._set_policy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        anchor = QGraphicsView.ViewportAnchor
        self.setTransformationAnchor(anchor.AnchorUnderMouse if under_mouse else anchor.AnchorViewCenter)
        self._set_scale(min(max(zoom, MIN_ZOOM), MAX_ZOOM) / self.devicePixelRatioF())

    def zoom_by(self, factor: float, under_mouse: bool = False) -> None:
        self.set_zoom(self.transform().m11() * self.devicePixelRatioF() * factor, under_mouse)

    def _set_scale(self, scale: float) -> None:
        # A stand-in thumbnail stays smooth: its blown-up pixels say nothing about the photo's.
        crisp = self._photo_size is not None and scale * self.devicePixelRatioF() * self._item.scale() >= CRISP_ZOOM
        mode = Qt.TransformationMode.FastTransformation if crisp else Qt.TransformationMode.SmoothTransformation
        self._item.setTransformationMode(mode)
        self.setTransform(QTransform.fromScale(scale, scale))
        self.zoom_changed.emit()

    def _set_policy(self, policy: Qt.ScrollBarPolicy) -> None:
        self.setHorizontalScrollBarPolicy(policy)
        self.setVerticalScrollBarPolicy(policy)

    # Events -----------------------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Ctrl+wheel zooms about the pointer; the plain wheel scrolls a zoomed picture."""
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(ZOOM_STEP ** (event.angleDelta().y() / WHEEL_NOTCH), under_mouse=True)
            event.accept()
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()
