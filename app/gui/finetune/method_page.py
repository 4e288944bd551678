"""Wizard page 2: the method (MCIP or 2SFT), the effort preset with what it will cost on this machine,
and the new model's name. Ticking "Adjust the settings by hand" adds the advanced page after this one.

Without a GPU the page says so plainly, preselects the quick preset, and the estimates are for the CPU.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWizardPage,
)

from photosift.app.gui.finetune import ADVANCED, CAPTIONS
from photosift.app.gui.finetune.estimates import describe, estimate
from photosift.app.gui.finetune.presets import (
    PRESETS,
    SUMMARIES,
    TITLES,
    VAL_FRACTION,
    Preset,
    preset_config,
    split_sizes,
)
from photosift.core.models.spec import NAME_PATTERN, ModelSpec
from photosift.core.settings import Paths
from photosift.training.config import Method, TrainConfig

METHODS: tuple[tuple[Method, str, str], ...] = (
    (
        "mcip",
        "MCIP (recommended)",
        "Learns your classes while pulling each photo towards captions that describe it, so searching by "
        "text keeps working as well as before or better.",
    ),
    (
        "2sft",
        "2SFT",
        "Learns your classes first, then re-aligns the text side to the changed photos. Text search can get "
        "worse on things outside your classes.",
    ),
)
DEVICE_NAMES = {"cuda": "NVIDIA GPU", "mps": "Apple GPU", "cpu": "processor (CPU)"}


class MethodPage(QWizardPage):
    def __init__(
        self,
        base: ModelSpec,
        paths: Paths,
        device_kind: str,
        gpu_memory_gb: float | None,
        class_sizes: Callable[[], list[int]],
        names_taken: Callable[[], set[str]],
        captions: int,
    ):
        super().__init__()
        self._base, self._paths, self._device_kind = base, paths, device_kind
        self._gpu_gb, self._class_sizes, self._names_taken, self._captions = (
            gpu_memory_gb,
            class_sizes,
            names_taken,
            captions,
        )
        self.setTitle("Method and effort")
        self.setSubTitle(f"Fine-tune {base.title} on this computer's {DEVICE_NAMES.get(device_kind, device_kind)}.")
        self.methods = QButtonGroup(self)
        self.presets = QButtonGroup(self)
        self.estimates: dict[Preset, QLabel] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self._method_box())
        layout.addWidget(self._preset_box())
        self.device_note = QLabel(wordWrap=True)
        self.device_note.setAccessibleName("About this computer")
        layout.addWidget(self.device_note)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setAccessibleName("Name of the new model")
        self.name.textChanged.connect(lambda _: self._check_name())
        form.addRow("&Name of the new model:", self.name)
        self.name_problem = QLabel(wordWrap=True)
        self.name_problem.setStyleSheet("color: #d32f2f;")
        form.addRow("", self.name_problem)
        layout.addLayout(form)
        self.advanced = QCheckBox("&Adjust the settings by hand (learning rates, batch size, …)")
        layout.addWidget(self.advanced)
        layout.addStretch()
        self._describe_device()

    def _method_box(self) -> QGroupBox:
        box = QGroupBox("Method")
        column = QVBoxLayout(box)
        for row, (key, title, text) in enumerate(METHODS):
            button = QRadioButton(title)
            button.setProperty("key", key)
            button.setChecked(row == 0)
            self.methods.addButton(button, row)
            button.toggled.connect(lambda on: self.update_estimates() if on else None)
            column.addWidget(button)
            column.addWidget(_indented(text))
        return box

    def _preset_box(self) -> QGroupBox:
        box = QGroupBox("Effort")
        column = QVBoxLayout(box)
        default = "quick" if self._device_kind == "cpu" else "standard"
        for row, preset in enumerate(PRESETS):
            button = QRadioButton(f"{TITLES[preset]}: {SUMMARIES[preset]}")
            button.setProperty("key", preset)
            button.setChecked(preset == default)
            self.presets.addButton(button, row)
            self.estimates[preset] = _indented("")
            column.addWidget(button)
            column.addWidget(self.estimates[preset])
        return box

    def _describe_device(self) -> None:
        if self._device_kind == "cpu":
            self.device_note.setText(
                "<b>No GPU found.</b> Training runs on the processor, which takes much longer: the quick preset "
                "is chosen, and the rest of Photosift stays usable while it runs."
            )
            self.device_note.setStyleSheet("color: #b26a00;")
        elif self._gpu_gb is not None:
            self.device_note.setText(f"This computer's GPU has {self._gpu_gb:.0f} GB of memory.")

    def initializePage(self) -> None:
        if not self.name.text():
            self.name.setText(self._free_name())
        self.update_estimates()

    def update_estimates(self) -> None:
        sizes = split_sizes(self._class_sizes(), VAL_FRACTION)
        for preset, label in self.estimates.items():
            found = estimate(self.config_for(preset), self._base, self._paths, self._device_kind, sizes, self._captions)
            text = describe(found)
            if found.memory_gb is not None and self._gpu_gb is not None and found.memory_gb > self._gpu_gb:
                text += " — more than this GPU has: choose a smaller model"
            label.setText(text)

    def _free_name(self) -> str:
        taken = self._names_taken()
        stem = f"{self._base.name}-personal"[:56]
        name, n = stem, 2
        while name in taken:
            name, n = f"{stem}-{n}", n + 1
        return name

    def _check_name(self) -> None:
        name = self.name.text()
        problem = ""
        if not NAME_PATTERN.fullmatch(name):
            problem = "Use lowercase letters, digits, “.”, “_” or “-” (up to 64), starting with a letter or digit."
        elif name in self._names_taken():
            problem = f"A model named “{name}” exists already."
        self.name_problem.setText(problem)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self.name.text()) and not self.name_problem.text()

    def nextId(self) -> int:
        return ADVANCED if self.advanced.isChecked() else CAPTIONS

    # What was chosen --------------------------------------------------------------------------------

    def method(self) -> Method:
        key: Method = _checked(self.methods).property("key")
        return key

    def preset(self) -> Preset:
        key: Preset = _checked(self.presets).property("key")
        return key

    def config_for(self, preset: Preset) -> TrainConfig:
        """The preset's config for this base model and name; data and output are the run folder's."""
        return preset_config(
            preset,
            data="",
            model=str(self._base.path) if self._base.path else self._base.name,
            method=self.method(),
            name=self.name.text(),
            output="",
            device_kind=self._device_kind,
        )

    def config(self) -> TrainConfig:
        return self.config_for(self.preset())


def _checked(group: QButtonGroup) -> QAbstractButton:
    button = group.checkedButton()
    # Never None: each group starts with a button checked, and an exclusive group cannot be unchecked.
    assert button is not None
    return button


def _indented(text: str) -> QLabel:
    label = QLabel(text, wordWrap=True)
    label.setContentsMargins(24, 0, 0, 6)
    return label
