"""The tags of the photo on show, as chips in the viewer's details: click one to search for it, right-click
to accept or reject it, or label the photo with any tag through "Add tag…".

Chips show what the photo carries: the user's accepted labels (with a check mark) and automatic tags at
or above their threshold (dashed, as suggestions). Rejected tags and near misses are not shown: the
photo does not carry them. Every write goes through the runner's writer, then the chips are fetched again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

from PySide6.QtCore import QEvent, QObject, QPoint, QStringListModel, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QCompleter, QLabel, QLineEdit, QMenu, QToolButton, QVBoxLayout, QWidget

from photosift.app.gui.dialogs.tags import open_sensitivity_dialog
from photosift.app.gui.presenter import shown_in_place
from photosift.app.gui.widgets.flow_layout import FlowLayout
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library
from photosift.core.tags.records import PhotoTag

SHOWN_STATES = ("accepted", "auto")  # what the photo carries; "candidate" and "rejected" it does not
ACCEPTED_MARK = "✓ "
# Palette roles only, so chips follow light and dark themes; a dashed border marks a suggestion.
CHIP_STYLE = """
QToolButton[chip="true"] { border: 1px solid palette(mid); border-radius: 8px; padding: 1px 6px; }
QToolButton[chip="true"][state="auto"] { border-style: dashed; }
QToolButton[chip="true"]:hover, QToolButton[chip="true"]:focus { border-color: palette(highlight); }
"""


def chip_tooltip(tag: PhotoTag) -> str:
    how = "Accepted by you" if tag.state == "accepted" else "Suggested automatically"
    score = f" (score {tag.score:.2f})" if tag.score is not None else ""
    return f"{tag.name} · {tag.group}\n{how}{score}\nClick to find photos with this tag; right-click to review it."


class TagChips(QWidget):
    """The chips of one photo at a time (`show_photo`); results for a photo no longer on show are dropped."""

    tag_clicked = Signal(str)  # a tag name: the window searches for tag:NAME
    labels_changed = Signal()  # a label or a sensitivity was stored: tag counts may have moved
    shown = Signal(int)  # photo id whose chips are now on show

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.setAccessibleName("Tags")
        self._restyling = False
        self.setStyleSheet(CHIP_STYLE)
        self.photo_id: int | None = None
        self._seq = 0  # bumped per fetch, so a late answer for an earlier photo (or state) is dropped
        self.chips: list[QToolButton] = []
        self.carried: dict[str, PhotoTag] = {}  # the tags behind the chips, by name
        self.flow = FlowLayout()
        self.add_button = QToolButton()
        self.add_button.setText("Add tag…")
        self.add_button.setAccessibleName("Add tag")
        self.add_button.setToolTip("Label this photo with a tag")
        self.add_button.setProperty("chip", True)
        self.add_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click keeps the viewer's keys working
        self.add_button.clicked.connect(self.start_adding)
        self.editor = QLineEdit(placeholderText="Tag name")
        self.editor.setAccessibleName("Tag to add")
        self.editor.setCompleter(_completer(self.editor))
        # A name picked from the list. PySide6's stubs leave out SignalInstance.__getitem__, which picks
        # the overload (activated has a QModelIndex one too).
        self.editor.completer().activated[str].connect(self.add)  # type: ignore[index]
        self.editor.returnPressed.connect(lambda: self.add(self.editor.text()))
        self.editor.installEventFilter(self)
        self.editor.hide()
        self.note = QLabel(wordWrap=True)
        self.note.setAccessibleName("Tags note")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.hide()
        for widget in (self.add_button, self.editor):
            self.flow.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.flow)
        layout.addWidget(self.note)

    # Showing ----------------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        """Follow a theme switch at once: a style sheet resolves `palette(...)` when it is set, so the
        chips (and "Add tag…", dark on dark after a switch to the dark theme) kept the old colours."""
        super().changeEvent(event)
        palette_changed = event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
        if palette_changed and not self._restyling:
            self._restyling = True  # setting the style sheet changes the palette once more
            self.setStyleSheet("")
            self.setStyleSheet(CHIP_STYLE)
            self._restyling = False

    def show_photo(self, photo_id: int) -> None:
        """Fetch and show `photo_id`'s tags (the chips of the photo before go at once)."""
        if photo_id != self.photo_id:
            self.photo_id = photo_id
            self._set_chips([])
            self._stop_adding()
        self.refresh()

    def refresh(self) -> None:
        """Fetch the tags of the photo on show again (after a label changed)."""
        if self.photo_id is None:
            return
        self._seq += 1
        seq, photo_id = self._seq, self.photo_id

        def show(tags: list[PhotoTag]) -> None:
            if seq == self._seq:
                self._set_chips([t for t in tags if t.state in SHOWN_STATES])
                self.shown.emit(photo_id)

        self.runner.run_op(lambda lib: lib.tags.photo_tags(photo_id), show, self._failed(seq))

    def _set_chips(self, tags: Sequence[PhotoTag]) -> None:
        focused = self.window().focusWidget() in self.chips
        for chip in self.chips:
            self.flow.removeWidget(chip)
            chip.hide()
            chip.deleteLater()
        for kept in (self.add_button, self.editor):
            self.flow.removeWidget(kept)
        self.carried = {tag.name: tag for tag in tags}
        self.chips = [self._chip(tag) for tag in tags]
        order = (*self.chips, self.add_button, self.editor)
        for widget in order:
            self.flow.addWidget(widget)
        for before, after in pairwise(order):
            QWidget.setTabOrder(before, after)  # as shown, not as created
        self.note.hide()
        if focused:
            self._give_back_focus()

    def _chip(self, tag: PhotoTag) -> QToolButton:
        chip = QToolButton(self)
        chip.setText((ACCEPTED_MARK if tag.state == "accepted" else "") + tag.name)
        chip.setProperty("chip", True)
        chip.setProperty("tag", tag.name)
        chip.setProperty("state", tag.state)
        chip.setAccessibleName(f"Tag {tag.name}, {'accepted' if tag.state == 'accepted' else 'suggested'}")
        chip.setToolTip(chip_tooltip(tag))
        chip.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        chip.clicked.connect(lambda: self.tag_clicked.emit(tag.name))
        chip.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        chip.customContextMenuRequested.connect(lambda pos: self._show_menu(chip, tag.name, pos))
        chip.show()
        return chip

    def chip(self, name: str) -> QToolButton | None:
        """The chip of tag `name`, if the photo on show carries it."""
        return next((c for c in self.chips if c.property("tag") == name), None)

    # Reviewing one tag ------------------------------------------------------------------------------

    def menu(self, name: str) -> QMenu:
        """The menu of the chip of tag `name`: search, accept, reject, forget the user's label, sensitivity."""
        tag = self.carried[name]
        menu = QMenu(self)
        menu.setAccessibleName(f"Tag {tag.name}")
        menu.addAction(f"Find photos tagged “{tag.name}”", lambda: self.tag_clicked.emit(tag.name))
        menu.addSeparator()
        if tag.state != "accepted":
            menu.addAction("Accept", lambda: self.label(tag.name, True))
        menu.addAction("Reject (this photo does not show it)", lambda: self.label(tag.name, False))
        if tag.state == "accepted":
            menu.addAction("Forget my label", lambda: self.label(tag.name, None))
        menu.addSeparator()
        menu.addAction("Sensitivity…", lambda: self._open_sensitivity(tag.name))
        return menu

    def _show_menu(self, chip: QToolButton, name: str, pos: QPoint) -> None:
        menu = self.menu(name)
        menu.exec(chip.mapToGlobal(pos))
        menu.deleteLater()

    def label(self, name: str, accepted: bool | None) -> None:
        """Store the user's word on tag `name` for the photo on show: accepted, rejected, or (None) neither."""
        if self.photo_id is None:
            return
        pairs = [(self.photo_id, name)]
        ops: dict[bool | None, Callable[[Library], int]] = {
            True: lambda lib: lib.tags.accept(pairs),
            False: lambda lib: lib.tags.reject(pairs),
            None: lambda lib: lib.tags.forget_labels(pairs),
        }
        self.runner.run_op(ops[accepted], lambda _stored: self._stored(), self._failed(self._seq), writes=True)

    def _stored(self) -> None:
        self.labels_changed.emit()
        self.refresh()

    def _open_sensitivity(self, name: str) -> None:
        dialog = open_sensitivity_dialog(self.window(), self.runner, name)
        dialog.sensitivity_changed.connect(lambda _name, _level: self._stored())

    # Adding a tag -----------------------------------------------------------------------------------

    def start_adding(self) -> None:
        """Swap "Add tag…" for a field that completes tag names (fetched now: tags may have been added)."""
        self.add_button.hide()
        self.editor.clear()
        self.editor.show()
        self.editor.setFocus()
        model = self.editor.completer().model()

        def fill(names: list[str]) -> None:
            if isinstance(model, QStringListModel):
                model.setStringList(names)

        self.runner.run_op(lambda lib: [t.name for t in lib.tags.tags()], fill, self._failed(self._seq))

    def add(self, name: str) -> None:
        """Label the photo on show with the existing tag `name` (an unknown name is reported in the note).
        Picking a completion with Enter both activates it and presses Enter: only the first one counts."""
        if self.editor.isHidden():
            return
        if name.strip():
            self.label(name.strip(), True)
        self._stop_adding()

    def _stop_adding(self) -> None:
        if self.window().focusWidget() is self.editor:
            self._give_back_focus()
        self.editor.hide()
        self.add_button.show()

    def _give_back_focus(self) -> None:
        """Focus the window rather than let Qt pass it to the next chip, where Space would click it: the
        viewer reads its keys (Space for the next photo) itself."""
        self.window().setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Escape in the field cancels adding, rather than reaching the viewer (which would close)."""
        escape = isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape
        if watched is self.editor and event.type() == QEvent.Type.KeyPress and escape:
            self._stop_adding()
            return True
        return super().eventFilter(watched, event)

    # Errors -----------------------------------------------------------------------------------------

    def _failed(self, seq: int) -> Callable[[BaseException], None]:
        def note(sentence: str) -> None:
            if seq == self._seq:
                self.note.setText(sentence)
                self.note.show()

        return shown_in_place(note, self.runner.present)


def _completer(parent: QObject) -> QCompleter:
    completer = QCompleter(QStringListModel(parent), parent)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    return completer
