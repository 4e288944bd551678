"""The first run, and every start until a model is usable: the welcome over an already usable window.

The welcome opens at a first start (no settings file, no folder), at every start while the current
model cannot run (its weights were never downloaded), and from Help ▸ Welcome…. Whatever the person
does in it, the folders they chose are kept: indexed at once when a model is ready, else as soon as one
is. Meanwhile a bar in the window says what is missing and offers the way on, and failures that only
say "no model yet" go to that bar instead of a box per action.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from photosift.app.gui.dialogs.get_model import Chooser, ask_model_file
from photosift.app.gui.dialogs.welcome import WelcomeDialog, ask_folder
from photosift.app.gui.presenter import first_sentence
from photosift.app.gui.state import AppState
from photosift.app.main import device_kind
from photosift.core.errors import ModelDownloadError

MISSING = (
    "No model is on this computer yet, so Photosift cannot index or search your photos. "
    "Your folders are kept and indexed as soon as a model is ready."
)


def is_first_run(state: AppState) -> bool:
    return not state.paths.settings_file.exists() and not state.library.folders()


class FirstRun(QObject):
    """Offers the welcome and shows `bar` (for the window's layout) while no model is usable."""

    welcome_opened = Signal(object)  # the WelcomeDialog, once open

    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        choose_folder: Chooser = ask_folder,
        choose_file: Chooser = ask_model_file,
    ):
        super().__init__(parent)
        self._parent, self.state = parent, state
        self._choose_folder, self._choose_file = choose_folder, choose_file
        self.dialog: WelcomeDialog | None = None
        self.bar = QWidget()
        self.bar.setAccessibleName("No model yet")
        self.message = QLabel(MISSING, wordWrap=True)
        self.get_button = QPushButton("&Get a model…")
        self.get_button.setAccessibleName("Get a model: open the welcome")
        self.get_button.clicked.connect(lambda: self.open_welcome())
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.message, 1)
        row.addWidget(self.get_button)
        state.model_switched.connect(lambda _library: self.update_bar())
        self.update_bar()

    def update_bar(self) -> None:
        self.bar.setVisible(not self.state.model_ready())

    def model_missing(self, exc: BaseException) -> bool:
        """Show `exc` in the bar if it only says the model is missing; returns whether it did."""
        if not isinstance(exc, ModelDownloadError) or self.state.model_ready():
            return False
        self.message.setText(f"{MISSING} ({first_sentence(str(exc))})")
        self.bar.setVisible(True)
        return True

    def offer_at_start(self) -> WelcomeDialog | None:
        """Open the welcome at a first start, or while the current model cannot run."""
        if is_first_run(self.state) or not self.state.model_ready():
            return self.open_welcome()
        return None

    def open_welcome(self) -> WelcomeDialog:
        """Open the welcome (window-modal), or bring the open one forward."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return self.dialog
        state = self.state
        settings, models = state.settings, state.models
        dialog = self.dialog = WelcomeDialog(
            models.registry.specs(),
            state.library.spec,
            device_kind(settings.device),
            state.paths,
            state.runner,
            lambda spec: models.make_encoder(spec, settings.device),
            self._parent,
            choose_folder=self._choose_folder,
            choose_file=self._choose_file,
            registry=models.registry,
            folders=[Path(f.path) for f in state.library.folders()],
        )
        dialog.finished.connect(lambda result: self._finish(dialog, bool(result)))
        dialog.open()
        self.welcome_opened.emit(dialog)
        return dialog

    def _finish(self, dialog: WelcomeDialog, accepted: bool) -> None:
        """Use the model loaded (if accepted), then add the new folders; the settings file is written
        either way, so a first start counts as done."""
        state, spec, encoder, folders = self.state, dialog.chosen_spec(), dialog.encoder, dialog.new_folders()
        if not (accepted and spec is not None and encoder is not None):
            state.save_settings(state.settings)
            state.add_folders(folders)
            return
        if not state.switch_model(spec, encoder, then=lambda: state.add_folders(folders)):
            state.add_folders(folders)
