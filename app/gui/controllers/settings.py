"""Opening the Settings dialog and applying what changed, without stopping the app.

A new model (or device) is embedded in the background by the indexing controller while the current one
keeps answering searches; excluded folders trigger a rescan; a new watch mode restarts the watcher.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from photosift.app.gui.dialogs.settings import SettingsDialog
from photosift.app.gui.prefs import GuiPrefs, apply_theme, save_prefs
from photosift.app.main import ModelProvider
from photosift.core.library import Library
from photosift.core.models.encoder import available_devices, select_device
from photosift.core.settings import Settings, save_settings

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow


def open_settings(window: MainWindow, models: ModelProvider) -> SettingsDialog:
    """Show the dialog (window-modal); changes apply when the user presses OK."""
    dialog = SettingsDialog(window.library.settings, window.prefs, models.registry.specs(), available_devices(), window)
    dialog.accepted.connect(lambda: apply_changes(window, models, dialog.settings(), dialog.prefs()))
    dialog.open()
    return dialog


def apply_changes(window: MainWindow, models: ModelProvider, settings: Settings, prefs: GuiPrefs) -> None:
    """Persist the new settings and preferences, then bring the running app in line with them."""
    library = window.library
    old, library.settings = library.settings, settings
    if window.indexing.switching_to is not None:
        window.indexing.switching_to.settings = settings
    save_settings(library.paths, settings)
    save_prefs(library.paths, prefs)
    _apply_prefs(window, prefs)
    if settings.excluded_folders != old.excluded_folders:
        window.indexing.request_scan(None)
    if settings.watch_polling != old.watch_polling:
        window.indexing.watch()
    if (settings.model, settings.device) != (old.model, old.device):
        switch_model(window, models, settings)


def switch_model(window: MainWindow, models: ModelProvider, settings: Settings) -> None:
    """Start embedding with the model (and device) the settings name; the controller swaps when done."""
    spec = models.resolve(settings.model, settings.device)
    if spec.key == window.library.spec.key and select_device(settings.device) == window.library.encoder.device:
        return
    encoder = models.make_encoder(spec, settings.device)

    def build(lib: Library) -> Library:
        return lib.with_model(spec, encoder)  # registers the model row: a catalog write

    window.runner.run_op(build, window.indexing.switch_model, window.report_error, writes=True)
    window.statusBar().showMessage(
        f"Switching to {spec.title}: photos are embedded in the background; searches use "
        f"{window.library.spec.title} until then.",
        15_000,
    )


def _apply_prefs(window: MainWindow, prefs: GuiPrefs) -> None:
    window.prefs = prefs
    window.set_thumbnail_size(prefs.thumbnail_size)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_theme(app, prefs.theme)
