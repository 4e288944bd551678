"""Tools ▸ Models…: the models the library keeps embeddings of, switching between them, and deleting
old embeddings to reclaim space.

Every model the library has searched with keeps its embeddings in the catalog, so switching back to one
whose photos are all embedded is instant (the indexing controller finds nothing to embed and swaps);
after a fine-tuning run this is how the user goes back. Deleting frees the catalog rows and the index
file; the model searching now, and one being switched to, cannot be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from photosift.app.gui.state import AppState
from photosift.core.catalog.model_rows import StoredModel
from photosift.core.library import Library, index_file
from photosift.core.models.card import model_card
from photosift.core.models.spec import ModelSpec
from photosift.core.wording import plural

VECTOR_BYTES = 2  # the catalog stores float16 vectors


@dataclass(frozen=True)
class ModelRow:
    """A stored model as the dialog shows it."""

    stored: StoredModel
    spec: ModelSpec | None  # the spec that still produces these embeddings, if any
    photos: int  # photos in the library that can be embedded
    disk_bytes: int

    def state(self, active_id: int, switching_id: int | None, active_ready: bool = True) -> str:
        if self.stored.id == active_id:
            return "Searching now" if active_ready else "Chosen, but not on this computer yet (Help ▸ Welcome…)"
        if self.stored.id == switching_id:
            return "Being prepared; searches switch to it when done"
        if self.spec is None:
            return "Its model is gone or has changed: only deleting is possible"
        if self.stored.embedded >= self.photos:
            return "Ready: switching to it is instant"
        return f"{plural(self.photos - self.stored.embedded, 'photo')} to prepare before switching"


def model_rows(library: Library, specs: list[ModelSpec]) -> list[ModelRow]:
    """Every model the library keeps data of; `specs` are those that can still produce it (the registry's,
    plus models from spec files such as the one searching now)."""
    by_key = {spec.key: spec for spec in specs}
    status = library.status()
    photos = status.photos - status.failed  # those a model can embed
    rows = []
    for stored in library.stored_models():
        path = index_file(library.paths, stored.name, stored.id)
        size = path.stat().st_size if path.is_file() else 0
        rows.append(
            ModelRow(stored, by_key.get(stored.key), photos, size + stored.embedded * stored.dim * VECTOR_BYTES)
        )
    return rows


class ModelsDialog(QDialog):
    refreshed = Signal()

    def __init__(self, parent: QWidget, state: AppState):
        super().__init__(parent)
        self._state = state
        self.rows: list[ModelRow] = []
        self.setWindowTitle("Models")
        self.resize(860, 320)
        self.table = QTreeWidget()
        self.table.setAccessibleName("Models with search data")
        self.table.setHeaderLabels(["Model", "Photos ready", "Space", "State"])
        self.table.setRootIsDecorated(False)
        self.table.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.switch_button = QPushButton("&Switch to it")
        self.delete_button = QPushButton("&Delete its search data…")
        self.switch_button.clicked.connect(self.switch_to_selected)
        self.delete_button.clicked.connect(self.confirm_delete)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.switch_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        note = QLabel(
            "Each model keeps what it learned about your photos, so switching back to a model is instant while "
            "that is kept. Delete it for models you no longer use to reclaim space.",
            wordWrap=True,
        )
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        state.model_switched.connect(self._switched)  # a bound slot: disconnected when deleted
        self.refresh()

    def _switched(self, _library: Library) -> None:
        self.refresh()

    def _specs(self) -> list[ModelSpec]:
        switching = self._state.indexing.switching_to
        extra = [self._state.library.spec] + ([switching.spec] if switching is not None else [])
        return [*self._state.models.registry.specs(), *extra]

    def refresh(self) -> None:
        specs = self._specs()
        self._state.runner.run_op(lambda lib: model_rows(lib, specs), self._show)

    def _show(self, rows: list[ModelRow]) -> None:
        self.rows = rows
        active, ready = self._state.library.model_id, self._state.model_ready()
        switching = self._state.indexing.switching_to
        switching_id = switching.model_id if switching is not None else None
        self.table.clear()
        for row in rows:
            card = model_card(row.spec) if row.spec else None
            item = QTreeWidgetItem(
                [
                    card.title if card else row.stored.name,
                    f"{row.stored.embedded:,}",
                    _size(row.disk_bytes),
                    row.state(active, switching_id, ready),
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, row.stored.id)
            item.setToolTip(0, f"{card.details} ({row.stored.name})" if card else row.stored.name)
            self.table.addTopLevelItem(item)
        for column in range(4):
            self.table.resizeColumnToContents(column)
        self._update_buttons()
        self.refreshed.emit()

    def select(self, name: str) -> None:
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item is not None and self.rows[i].stored.name == name:
                self.table.setCurrentItem(item)

    def _selected(self) -> ModelRow | None:
        item = self.table.currentItem()
        if item is None:
            return None
        model_id = item.data(0, Qt.ItemDataRole.UserRole)
        return next((r for r in self.rows if r.stored.id == model_id), None)

    def _update_buttons(self) -> None:
        row = self._selected()
        switching = self._state.indexing.switching_to
        busy = {self._state.library.model_id, switching.model_id if switching is not None else None}
        self.switch_button.setEnabled(row is not None and row.spec is not None and row.stored.id not in busy)
        self.delete_button.setEnabled(row is not None and row.stored.id not in busy)

    def switch_to_selected(self) -> None:
        """Search with the selected model from now on (saved in the settings; instant when fully embedded)."""
        row = self._selected()
        if row is None or row.spec is None:
            return
        self._state.switch_model(row.spec)
        self.refresh()

    def confirm_delete(self) -> QMessageBox | None:
        row = self._selected()
        if row is None:
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete search data",
            f"Delete what {row.stored.name} learned about your photos ({_size(row.disk_bytes)})? Switching to it "
            "later goes through every photo again.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        model_id = row.stored.id
        box.accepted.connect(
            lambda: self._state.runner.run_op(
                lambda lib: lib.forget_model(model_id), lambda _: self.refresh(), writes=True
            )
        )
        box.open()
        return box


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1000:
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"


def open_models_dialog(parent: QWidget, state: AppState) -> ModelsDialog:
    dialog = ModelsDialog(parent, state)
    dialog.open()
    return dialog
