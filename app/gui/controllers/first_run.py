"""The first start: the welcome wizard over an already usable main window.

It counts as a first start when there is no settings file yet and no folder in the library. Whatever the
user does in the wizard, the settings file is written, so it is shown once; folders can be added later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from photosift.app.gui.dialogs.welcome import Chooser, WelcomeDialog, ask_folder, ask_weights_file
from photosift.app.main import ModelProvider
from photosift.core.library import Library
from photosift.core.models.encoder import select_device
from photosift.core.settings import save_settings

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow


def is_first_run(library: Library) -> bool:
    return not library.paths.settings_file.exists() and not library.folders()


def start_welcome(
    window: MainWindow,
    models: ModelProvider,
    choose_folder: Chooser = ask_folder,
    choose_file: Chooser = ask_weights_file,
) -> WelcomeDialog:
    """Open the wizard (window-modal); on Finish, switch to the chosen model and add the chosen folders."""
    library = window.library
    device = select_device(library.settings.device)
    dialog = WelcomeDialog(
        models.registry.specs(),
        library.spec,
        device.split(":")[0],
        library.paths,
        window.runner,
        lambda spec: models.make_encoder(spec, library.settings.device),
        window,
        choose_folder=choose_folder,
        choose_file=choose_file,
    )
    dialog.accepted.connect(lambda: _finish(window, dialog))
    dialog.finished.connect(lambda _: save_settings(library.paths, window.library.settings))
    dialog.open()
    return dialog


def _finish(window: MainWindow, dialog: WelcomeDialog) -> None:
    spec, encoder, folders = dialog.chosen_spec(), dialog.encoder, dialog.folders()

    def add_folders(_: object = None) -> None:
        for folder in folders:
            window.add_folder(folder)

    if encoder is None:
        add_folders()
        return
    if spec.key == window.library.spec.key:
        window.library.encoder = encoder  # already loaded by the wizard; nothing else uses the model yet
        add_folders()
        return

    def use(lib: Library) -> Library:  # no photos yet: the new model can take over at once
        new = lib.with_model(spec, encoder)
        new.settings = lib.settings.with_changes(model=spec.name)
        return new

    def swap(new: Library) -> None:
        window.runner.library = new
        window.indexing.model_switched.emit(new)
        add_folders()

    window.runner.run_op(use, swap, window.report_error, writes=True)
