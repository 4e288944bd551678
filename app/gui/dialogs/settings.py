"""The Settings dialog: model, device, indexing throughput, excluded folders, watch mode, and appearance.

It edits copies: `settings()` and `prefs()` hand back new frozen values once the dialog is accepted (the
originals after Cancel). Saving, applying, and deciding what a change implies (a new model means
re-embedding in the background) are the caller's job, by comparing old and new values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QRadioButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from photosift.app.gui.prefs import THEMES, THUMBNAIL_MAX, THUMBNAIL_MIN, GuiPrefs
from photosift.app.gui.start_folders import pictures_folder
from photosift.core.catalog.catalog import absolute_path
from photosift.core.models.card import model_card
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Settings

W = TypeVar("W", bound=QWidget)
FolderChooser = Callable[[QWidget], str]  # returns the chosen folder, or "" when the user cancels

MAX_DECODE_WORKERS = 64  # more threads than this only contend for memory bandwidth
MAX_BATCH_SIZE = 1024  # beyond this even large GPUs gain nothing and memory runs out first
THUMBNAIL_STEP = 16  # smaller steps change the grid too little to see
DEVICE_LABELS = {"auto": "Automatic (best available)", "cpu": "CPU", "cuda": "NVIDIA GPU (CUDA)", "mps": "Apple GPU"}
CPU_RUNTIME_LABELS = {  # the `cpu_runtime` setting's values (core.models.encoder.RUNTIMES)
    "auto": "Full precision (onnxruntime)",
    "int8": "Faster, slightly approximate (int8)",
    "torch": "PyTorch (slowest)",
}
THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
OCR_LABELS = {  # the `ocr` setting's values (core.ocr.reader.MODES)
    "likely": "Photos that look like they hold text",
    "all": "Every photo (slower)",
    "off": "Off",
}
SWITCH_NOTE = (
    "Switching models goes through your photos again in the background; searches keep using the current "
    "model until the new one has caught up."
)


def choose_folder_dialog(parent: QWidget) -> str:
    return QFileDialog.getExistingDirectory(parent, "Exclude a folder from indexing", pictures_folder())


class SettingsDialog(QDialog):
    """Edits the core `Settings` and the GUI's `GuiPrefs`."""

    def __init__(
        self,
        settings: Settings,
        prefs: GuiPrefs,
        specs: Sequence[ModelSpec],
        devices: Sequence[str],
        parent: QWidget | None = None,
        choose_folder: FolderChooser = choose_folder_dialog,
        current: ModelSpec | None = None,
        current_ready: bool = True,
    ):
        """Show `settings` and `prefs` for editing.

        Args:
            specs: the models to offer (`ModelRegistry.specs()`).
            devices: the device kinds this machine has, e.g. ["cpu", "cuda"]; "auto" is always offered.
            choose_folder: asks for a folder to exclude; tests pass a fake.
            current: the model in use, named by its spec even when the settings name it by a file path.
            current_ready: whether that model is on this computer (else the dialog says it is not yet).
        """
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._original_settings, self._original_prefs = settings, prefs
        self._specs = {spec.name: spec for spec in specs}
        self._current, self._current_ready = current, current_ready
        if current is not None and settings.model and settings.model not in self._specs:
            self._specs[settings.model] = current  # a model from a spec file: offered under its own title
        self._choose_folder = choose_folder
        layout = QVBoxLayout(self)
        layout.addWidget(self._model_group(devices))
        layout.addWidget(self._library_group())
        layout.addWidget(self._appearance_group())
        layout.addWidget(self._buttons())
        self._show(settings, prefs)

    # Building ---------------------------------------------------------------------------------------

    def _model_group(self, devices: Sequence[str]) -> QGroupBox:
        self.model_combo = _named(QComboBox(), "Model")
        self.model_combo.addItem("Automatic (best for this computer)", None)
        for reference, spec in self._specs.items():
            self.model_combo.addItem(model_card(spec).title, reference)
        self.model_info = QLabel(wordWrap=True)
        self.model_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_combo.currentIndexChanged.connect(self._describe_model)
        self.device_combo = _named(QComboBox(), "Device")
        for kind in ("auto", *devices):
            self.device_combo.addItem(DEVICE_LABELS.get(kind, kind), kind)
        self.workers_spin = _auto_spin(MAX_DECODE_WORKERS, "Decode workers")
        self.workers_spin.setToolTip("Threads that decode photos ahead of the model")
        self.batch_spin = _auto_spin(MAX_BATCH_SIZE, "Batch size")
        self.batch_spin.setToolTip("Photos per model pass; larger is faster on a GPU with room to spare")
        self.cpu_runtime_combo = _named(QComboBox(), "CPU runtime")
        for runtime, label in CPU_RUNTIME_LABELS.items():
            self.cpu_runtime_combo.addItem(label, runtime)
        self.cpu_runtime_combo.setToolTip(
            "How the model runs without a GPU. int8 indexes photos up to twice as fast on recent processors;"
            " their embeddings differ from full precision by a few per cent. Applies when Photosift next starts."
        )
        group = QGroupBox("Search model")
        form = QFormLayout(group)
        form.addRow("&Model:", self.model_combo)
        form.addRow(self.model_info)
        form.addRow("&Device:", self.device_combo)
        form.addRow("Decode &workers:", self.workers_spin)
        form.addRow("&Batch size:", self.batch_spin)
        form.addRow("Without a &GPU:", self.cpu_runtime_combo)
        return group

    def _library_group(self) -> QGroupBox:
        self.excluded_list = _named(QListWidget(), "Excluded folders")
        self.excluded_list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.excluded_list.setToolTip("Subfolders of your photo folders that are never indexed")
        self.add_excluded_button = _named(QPushButton("&Add…"), "Add an excluded folder")
        self.remove_excluded_button = _named(QPushButton("R&emove"), "Remove the selected excluded folders")
        self.add_excluded_button.clicked.connect(self._add_excluded)
        self.remove_excluded_button.clicked.connect(self._remove_excluded)
        self.excluded_list.itemSelectionChanged.connect(self._update_remove_button)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_excluded_button)
        buttons.addWidget(self.remove_excluded_button)
        buttons.addStretch()
        excluded = QHBoxLayout()
        excluded.addWidget(self.excluded_list, 1)
        excluded.addLayout(buttons)
        self.native_radio = _named(QRadioButton("&Native file events"), "Watch with native file events")
        self.polling_radio = _named(QRadioButton("&Polling (for network shares)"), "Watch by polling")
        self.polling_radio.setToolTip("Network drives often send no change events; polling checks them regularly")
        self._watch_group = QButtonGroup(self)
        watch = QHBoxLayout()
        for radio in (self.native_radio, self.polling_radio):
            self._watch_group.addButton(radio)
            watch.addWidget(radio)
        watch.addStretch()
        self.ocr_combo = _named(QComboBox(), "Read text in photos")
        for mode, label in OCR_LABELS.items():
            self.ocr_combo.addItem(label, mode)
        self.ocr_combo.setToolTip("After indexing, in the background: finds photos by the words in them (text:)")
        group = QGroupBox("Photo folders")
        form = QFormLayout(group)
        form.addRow(_label("E&xcluded subfolders:", self.excluded_list), excluded)
        form.addRow("Watch for changes with:", watch)
        form.addRow("Read text &in:", self.ocr_combo)
        return group

    def _appearance_group(self) -> QGroupBox:
        self.thumbnail_slider = _named(QSlider(Qt.Orientation.Horizontal), "Thumbnail size")
        self.thumbnail_spin = _named(QSpinBox(suffix=" px"), "Thumbnail size in pixels")
        for widget in (self.thumbnail_slider, self.thumbnail_spin):
            widget.setRange(THUMBNAIL_MIN, THUMBNAIL_MAX)
            widget.setSingleStep(THUMBNAIL_STEP)
        self.thumbnail_slider.setPageStep(THUMBNAIL_STEP * 4)
        self.thumbnail_slider.valueChanged.connect(self.thumbnail_spin.setValue)
        self.thumbnail_spin.valueChanged.connect(self.thumbnail_slider.setValue)
        size = QHBoxLayout()
        size.addWidget(self.thumbnail_slider, 1)
        size.addWidget(self.thumbnail_spin)
        self.theme_combo = _named(QComboBox(), "Theme")
        for theme in THEMES:
            self.theme_combo.addItem(THEME_LABELS[theme], theme)
        group = QGroupBox("Appearance")
        form = QFormLayout(group)
        form.addRow(_label("&Thumbnail size:", self.thumbnail_slider), size)
        form.addRow("T&heme:", self.theme_combo)
        return group

    def _buttons(self) -> QDialogButtonBox:
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        self.restore_defaults_button = box.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        self.restore_defaults_button.clicked.connect(self.restore_defaults)
        self.button_box = box
        return box

    # Values -----------------------------------------------------------------------------------------

    def settings(self) -> Settings:
        """The edited settings once accepted; the original ones otherwise."""
        if self.result() != QDialog.DialogCode.Accepted:
            return self._original_settings
        return self._original_settings.with_changes(
            model=self.model_combo.currentData(),
            device=self.device_combo.currentData(),
            decode_workers=self.workers_spin.value(),
            batch_size=self.batch_spin.value(),
            cpu_runtime=self.cpu_runtime_combo.currentData(),
            excluded_folders=tuple(self.excluded_list.item(i).text() for i in range(self.excluded_list.count())),
            watch_polling=self.polling_radio.isChecked(),
            ocr=self.ocr_combo.currentData(),
        )

    def prefs(self) -> GuiPrefs:
        """The edited preferences once accepted (window layout passed through); the original ones otherwise."""
        if self.result() != QDialog.DialogCode.Accepted:
            return self._original_prefs
        return replace(
            self._original_prefs, thumbnail_size=self.thumbnail_spin.value(), theme=self.theme_combo.currentData()
        )

    def restore_defaults(self) -> None:
        """Put the defaults in the widgets; nothing changes until OK."""
        self._show(Settings(), GuiPrefs())

    def _show(self, settings: Settings, prefs: GuiPrefs) -> None:
        _select(self.model_combo, settings.model, f"{settings.model} (not installed)")
        _select(self.device_combo, settings.device, f"{settings.device} (not available)")
        self.workers_spin.setValue(settings.decode_workers)
        self.batch_spin.setValue(settings.batch_size)
        _select(self.cpu_runtime_combo, settings.cpu_runtime, settings.cpu_runtime)
        self.excluded_list.clear()
        for folder in dict.fromkeys(absolute_path(f) for f in settings.excluded_folders):
            self.excluded_list.addItem(folder)
        self._update_remove_button()
        (self.polling_radio if settings.watch_polling else self.native_radio).setChecked(True)
        _select(self.ocr_combo, settings.ocr, settings.ocr)
        self.thumbnail_spin.setValue(prefs.thumbnail_size)
        _select(self.theme_combo, prefs.theme, prefs.theme)
        self._describe_model()

    def _describe_model(self) -> None:
        reference = self.model_combo.currentData()
        spec = self._specs.get(reference) if reference else self._current
        if spec is None:
            self.model_info.setText(f"Picks the default model for this computer's hardware.\n{SWITCH_NOTE}")
            return
        card = model_card(spec)
        in_use = self._current is not None and spec.key == self._current.key
        if in_use and not self._current_ready:
            state = "In use, but not on this computer yet: Help ▸ Welcome… gets it."
        elif in_use:
            state = "In use now."
        elif card.download_mb and spec.weights is not None:
            state = f"Downloads {card.download_size} when first used."
        else:
            state = ""
        automatic = "Automatic picks this one for this computer. " if not reference else ""
        self.model_info.setText(f"{automatic}{card.details}. {state}\n{SWITCH_NOTE}".replace(". \n", ".\n"))

    # Excluded folders -------------------------------------------------------------------------------

    def _add_excluded(self) -> None:
        chosen = self._choose_folder(self)
        if not chosen:
            return
        folder = absolute_path(chosen)  # the form the scanner compares subfolder paths with
        found = self.excluded_list.findItems(folder, Qt.MatchFlag.MatchExactly)
        item = found[0] if found else None
        if item is None:
            self.excluded_list.addItem(folder)
            item = self.excluded_list.item(self.excluded_list.count() - 1)
        self.excluded_list.setCurrentItem(item)

    def _remove_excluded(self) -> None:
        for item in self.excluded_list.selectedItems():
            self.excluded_list.takeItem(self.excluded_list.row(item))

    def _update_remove_button(self) -> None:
        self.remove_excluded_button.setEnabled(bool(self.excluded_list.selectedItems()))


def _auto_spin(maximum: int, name: str) -> QSpinBox:
    """A spin box where 0 reads "Automatic", matching the core's "0 means automatic"."""
    spin = _named(QSpinBox(), name)
    spin.setRange(0, maximum)
    spin.setSpecialValueText("Automatic")
    return spin


def _named(widget: W, name: str) -> W:
    widget.setAccessibleName(name)
    return widget


def _label(text: str, buddy: QWidget) -> QLabel:
    """A label whose mnemonic focuses `buddy` (QFormLayout sets buddies only for labels it makes itself)."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


def _select(combo: QComboBox, value: object, missing_label: str) -> None:
    """Select the item holding `value`, adding one labelled `missing_label` if none does, so that a
    saved value this dialog does not offer (a removed model, an unplugged GPU) survives an OK."""
    index = combo.findData(value)
    if index < 0:
        combo.addItem(missing_label, value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
