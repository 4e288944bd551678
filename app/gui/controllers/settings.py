"""Opening the Settings dialog and applying what changed, without stopping the app.

A new model (or device) goes to `AppState.switch_model`, which embeds in the background while the
current model keeps answering searches; excluded folders trigger a rescan; a new watch mode restarts
the watcher; a new `ocr` setting restarts the OCR pass; preferences go back to the window through `apply_prefs`.
A new CPU runtime is the one change that waits for the next start (the status line says so).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QApplication, QWidget

from photosift.app.gui.dialogs.settings import SettingsDialog
from photosift.app.gui.prefs import GuiPrefs, apply_theme, save_prefs
from photosift.app.gui.state import AppState
from photosift.core.settings import Settings


def open_settings(
    parent: QWidget, state: AppState, prefs: GuiPrefs, apply_prefs: Callable[[GuiPrefs], None]
) -> SettingsDialog:
    """Show the dialog (window-modal); changes apply when the user presses OK."""
    from photosift.core.models.encoder import available_devices  # torch: when the dialog opens, not at start

    dialog = SettingsDialog(
        state.settings,
        prefs,
        state.models.registry.specs(),
        available_devices(),
        parent,
        current=state.library.spec,
        current_ready=state.model_ready(),
    )
    dialog.accepted.connect(lambda: apply_changes(state, dialog.settings(), dialog.prefs(), apply_prefs))
    dialog.open()
    return dialog


def apply_changes(
    state: AppState, settings: Settings, prefs: GuiPrefs, apply_prefs: Callable[[GuiPrefs], None]
) -> None:
    """Persist the new settings and preferences, then bring the running app in line with them."""
    old = state.settings
    state.save_settings(settings)
    save_prefs(state.paths, prefs)
    apply_prefs(prefs)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_theme(app, prefs.theme)
    if settings.excluded_folders != old.excluded_folders:
        state.indexing.request_scan(None)
    if settings.watch_polling != old.watch_polling:
        state.indexing.watch()
    if settings.ocr != old.ocr:
        for library in (state.library, state.indexing.switching_to):
            if library is not None:
                library.text.mode = settings.ocr  # the dialog offers only core.ocr.reader.MODES
        state.text_reading.restart()
    if settings.cpu_runtime != old.cpu_runtime:  # the model provider made this session's encoders already
        state.notice.emit("The new way to run the model without a GPU applies when Photosift next starts.")
    if (settings.model, settings.device) != (old.model, old.device):
        state.switch_model(state.models.resolve(settings.model, settings.device))
