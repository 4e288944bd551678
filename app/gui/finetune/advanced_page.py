"""Wizard page 2b (optional): every setting of the training config, by the names `photosift train --help`
and the run's YAML file use, starting from the chosen preset.

The editors are made from the `TrainConfig` dataclass, so a setting added to the trainer shows up here
without GUI work. The settings the wizard decides itself (data, base model, method, name, run folder,
captions) are left out: they are chosen on the other pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, get_args

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from photosift.app.gui.finetune import CAPTIONS
from photosift.core.errors import UserError
from photosift.training.config import SplitMode, TrainConfig, load_config

WIZARD_OWNED = frozenset({"data", "model", "method", "name", "output", "caption_file", "extra_terms"})
CHOICES: dict[str, tuple[str, ...]] = {"split": get_args(SplitMode)}
INT_MAX = 1_000_000


def _editor(name: str, value: Any) -> QWidget:
    if name in CHOICES:
        box = QComboBox()
        box.addItems(list(CHOICES[name]))
        box.setCurrentText(str(value))
        return box
    if isinstance(value, bool):
        check = QCheckBox()
        check.setChecked(value)
        return check
    if isinstance(value, int):
        spin = QSpinBox()
        spin.setRange(0, INT_MAX)
        spin.setValue(value)
        return spin
    if isinstance(value, float):
        # Learning rates span 1e-7 to 1e-2: a line edit takes "1e-5" where a spin box would round it away.
        return QLineEdit(f"{value:g}")
    return QLineEdit(str(value))


def _read(editor: QWidget) -> Any:
    if isinstance(editor, QComboBox):
        return editor.currentText()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QSpinBox | QDoubleSpinBox):
        return editor.value()
    if isinstance(editor, QLineEdit):
        return editor.text()
    raise TypeError(type(editor))


class AdvancedPage(QWizardPage):
    def __init__(self, preset: Callable[[], TrainConfig]) -> None:
        super().__init__()
        self._preset = preset
        self.setTitle("Settings")
        self.setSubTitle(
            "Every training setting, starting from the preset you chose. The names are those of "
            "`photosift train --help`; the trainer checks the values when it starts."
        )
        self.editors: dict[str, QWidget] = {}
        self._base = TrainConfig()
        self._form = QFormLayout()
        inner = QWidget()
        inner.setLayout(self._form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        self.problem = QLabel(wordWrap=True)
        self.problem.setStyleSheet("color: #d32f2f;")
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(self.problem)

    def initializePage(self) -> None:
        self.show_config(self._preset())

    def show_config(self, config: TrainConfig) -> None:
        """Fill the editors from `config` (the preset's, when the page is entered)."""
        self._base = config
        while self._form.rowCount():
            self._form.removeRow(0)
        self.editors = {}
        for field in fields(TrainConfig):
            if field.name not in WIZARD_OWNED:
                editor = _editor(field.name, getattr(config, field.name))
                editor.setAccessibleName(field.name)
                self.editors[field.name] = editor
                self._form.addRow(field.name, editor)

    def config(self) -> TrainConfig:
        """The config as edited. Values are converted by the trainer's own rules (training/config.py).

        Raises:
            UserError: a value is not valid for its setting (the message names it).
        """
        values = self._base.to_dict() | {name: _read(editor) for name, editor in self.editors.items()}
        # load_config insists on data, which the wizard only fills in when it writes the run folder.
        values = {k: v for k, v in values.items() if v != ""} | {"data": self._base.data or "later"}
        return load_config(None, values).replace(data=self._base.data)

    def validatePage(self) -> bool:
        try:
            self.config()
        except UserError as exc:
            self.problem.setText(str(exc))
            return False
        self.problem.setText("")
        return True

    def nextId(self) -> int:
        return CAPTIONS
