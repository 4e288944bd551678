"""The fine-tuning wizard: labelled photos → method and effort → captions → training → result → switch.

A modeless window over the main window, so searching and indexing go on while a run trains. It fine-tunes
the model the library searches with now, in the trainer's own process; the run folder
(`<home>/runs/<name>/`, see runs.py) remembers the run, so a paused or interrupted run is offered again
the next time the wizard opens, even after a restart.

Activating registers nothing new (the trainer already wrote the model's spec among the user's models):
it saves the model in the settings and starts the background switch the Settings dialog uses, so the
current model keeps answering searches until the library is re-embedded. Its embeddings are kept, so the
Models dialog (Tools ▸ Models…) switches back instantly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QWidget, QWizard

from photosift.app.gui.finetune import ADVANCED, CAPTIONS, DATA, METHOD, RESULT, TRAINING
from photosift.app.gui.finetune.advanced_page import AdvancedPage
from photosift.app.gui.finetune.caption_sources import bundled_captions, user_terms
from photosift.app.gui.finetune.captions_page import CaptionsPage, FileChooser, ask_caption_file
from photosift.app.gui.finetune.compare import Comparison, compare
from photosift.app.gui.finetune.data_page import DataPage
from photosift.app.gui.finetune.estimates import gpu_memory_gb
from photosift.app.gui.finetune.method_page import MethodPage
from photosift.app.gui.finetune.result_page import ResultPage
from photosift.app.gui.finetune.runs import RunRecord, discard_run, new_record, runs_dir, save_record, unfinished_runs
from photosift.app.gui.finetune.setup import CaptionChoice, load_settings, prepare_run
from photosift.app.gui.finetune.training_page import TrainingPage
from photosift.app.gui.state import AppState
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.app.main import device_kind
from photosift.core.library import LibraryEncoder
from photosift.training.config import TrainConfig


class FineTuneWizard(QWizard):
    activated = Signal(str)  # the new model's name: the switch to it has started

    def __init__(
        self, parent: QWidget, state: AppState, thumbnails: ThumbnailCache, choose_file: FileChooser = ask_caption_file
    ):
        """`thumbnails` is the window's cache, so the data page shows the photos the grid already drew."""
        super().__init__(parent)
        self.state, self.models = state, state.models
        library = state.library
        self.base, self.paths, self.runner = library.spec, library.paths, state.runner
        self.device_kind = device_kind(library.settings.device)
        self.record: RunRecord | None = None
        self._new_encoder: LibraryEncoder | None = None
        self.setWindowTitle("Personalise the search model")
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.data_page = DataPage(self.runner, thumbnails, unfinished_runs(self.paths))
        self.method_page = MethodPage(
            self.base,
            self.paths,
            self.device_kind,
            gpu_memory_gb() if self.device_kind == "cuda" else None,
            lambda: [len(c.photo_ids) for c in self.data_page.chosen().exclusive().classes],
            self._names_taken,
            len(bundled_captions()),
        )
        self.advanced_page = AdvancedPage(self.method_page.config)
        self.captions_page = CaptionsPage(
            self._prepare,
            self.base,
            self.paths,
            self.device_kind,
            len(bundled_captions()),
            lambda show: self.runner.run_op(user_terms, show),
            choose_file,
        )
        self.training_page = TrainingPage(self.paths, self.device_kind, self._current_run)
        self.result_page = ResultPage(
            self._record, self._compare, lambda: state.library.spec.title, self.runner.present
        )
        pages = (self.data_page, self.method_page, self.advanced_page, self.captions_page)
        for page_id, page in zip((DATA, METHOD, ADVANCED, CAPTIONS), pages, strict=True):
            self.setPage(page_id, page)
        self.setPage(TRAINING, self.training_page)
        self.setPage(RESULT, self.result_page)
        self.training_page.setCommitPage(True)  # once trained, the result is the only way on
        self.training_page.setButtonText(QWizard.WizardButton.CommitButton, "See the &result >")
        self.captions_page.setButtonText(QWizard.WizardButton.CommitButton, "&Start training")
        self.data_page.resume_requested.connect(self.resume)
        self.data_page.discard_requested.connect(lambda record: discard_run(record, self.paths))
        self.captions_page.plan_finished.connect(self._plan_finished)
        self.training_page.finished_run.connect(self._trained)
        self.training_page.record_changed.connect(self._set_record)
        self.training_page.start_over_requested.connect(self._change_settings)
        self.result_page.activate_requested.connect(self.activate)
        self.result_page.discard_requested.connect(self.confirm_discard)
        self.currentIdChanged.connect(self._entered)
        self.resize(960, 760)

    # Pages' shared state ----------------------------------------------------------------------------

    def _names_taken(self) -> set[str]:
        """Model names in use, and run folders' (a run folder is named after its model), but this run's own."""
        folder = runs_dir(self.paths)
        runs = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
        own = {self.record.name} if self.record is not None and self.record.status == "prepared" else set()
        return ({spec.name for spec in self.models.registry.specs()} | runs) - own

    def chosen_config(self) -> TrainConfig:
        """The settings of the method page, or the advanced page's when the user adjusted them."""
        return self.advanced_page.config() if self.method_page.advanced.isChecked() else self.method_page.config()

    def _prepare(
        self,
        choice: CaptionChoice,
        on_done: Callable[[RunRecord, TrainConfig], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        config = self.chosen_config()
        if self.record is not None and self.record.name != config.name:
            discard_run(self.record, self.paths)  # only set up, never trained: the user renamed it
            self.record = None
        record = self.record or new_record(self.paths, config.name, self.base.name)
        self.record = record
        labelled = self.data_page.chosen()
        self.runner.run_op(
            lambda lib: prepare_run(lib, labelled, config, record, choice),
            lambda prepared: on_done(record, prepared),
            on_error,
        )

    def _plan_finished(self, ok: bool) -> None:
        if ok and self.record is not None:
            self.record = replace(self.record, held_out=self.captions_page.held_out)
            save_record(self.record)

    def _record(self) -> RunRecord:
        if self.record is None:
            raise RuntimeError("no run is set up")
        return self.record

    def _current_run(self) -> tuple[RunRecord, TrainConfig]:
        record = self._record()
        config = self.captions_page.config if self.hasVisitedPage(CAPTIONS) else None
        return record, config or load_settings(record)

    def _entered(self, page_id: int) -> None:
        if page_id == TRAINING:
            self.captions_page.setCommitPage(True)  # no way back while the run exists
            self.training_page.completeChanged.emit()  # QWizard re-reads the buttons' states on this

    def _set_record(self, record: RunRecord) -> None:
        self.record = record

    def _trained(self, ok: bool) -> None:
        if ok and not self.isVisible():
            self.state.notice.emit("Fine-tuning finished: Tools ▸ Personalise the model… shows whether it helped.")
        if ok:
            self.next()

    # Runs from earlier sessions ---------------------------------------------------------------------

    def resume(self, record: RunRecord) -> None:
        """Pick up a run: its training page (paused or interrupted), or its result (finished)."""
        self.record = record
        self.setStartId(RESULT if record.status == "finished" else TRAINING)
        self.restart()

    def _change_settings(self) -> None:
        if self.hasVisitedPage(CAPTIONS):
            self.captions_page.setCommitPage(False)
            self.training_page.completeChanged.emit()
            self.back()
        else:
            self.setStartId(DATA)
            self.restart()

    # The result -------------------------------------------------------------------------------------

    def _compare(
        self, record: RunRecord, on_done: Callable[[Comparison], None], on_error: Callable[[BaseException], None]
    ) -> None:
        settings = self.state.settings
        new = self._new_encoder = self.models.make_encoder(self.models.registry.resolve(record.name), settings.device)
        held_out = record.held_out
        self.runner.run_op(lambda lib: compare(lib.encoder, new, held_out), on_done, on_error)

    def activate(self) -> None:
        """Make the new model the library's: saved in the settings, embedded in the background, then swapped."""
        record = self._record()
        self._release_encoder()
        self.state.switch_model(self.models.registry.resolve(record.name))
        self.record = record.with_status("activated")
        save_record(self.record)
        self.activated.emit(record.name)
        self.accept()

    def confirm_discard(self) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Discard the new model",
            f"Delete “{self._record().name}” and its training run? This cannot be undone.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self,
        )
        discard = box.button(QMessageBox.StandardButton.Discard)
        box.finished.connect(lambda _: self.discard() if box.clickedButton() is discard else None)
        box.open()
        return box

    def discard(self) -> None:
        self.training_page.kill()
        self._release_encoder()
        if self.record is not None:
            discard_run(self.record, self.paths)
            self.record = None
        super().reject()

    def accept(self) -> None:
        """Finish ("Decide later") or after activating: the run stays offered until decided."""
        self._release_encoder()
        super().accept()

    def _release_encoder(self) -> None:
        if self._new_encoder is not None:
            self._new_encoder.release()
            self._new_encoder = None

    # Closing ----------------------------------------------------------------------------------------

    def reject(self) -> None:
        """Cancel or close: a run that is training may go on in the background, pause, or be discarded."""
        if self.training_page.running():
            self.ask_how_to_close()
            return
        self.captions_page.stop_plan()
        self._release_encoder()
        if self.record is not None and self.record.status == "prepared":
            discard_run(self.record, self.paths)  # set up but never trained: nothing to come back to
            self.record = None
        super().reject()

    def ask_how_to_close(self) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Question, "Training is running", "What should happen to the run?", parent=self
        )
        box.setInformativeText(
            "A paused run can be resumed later from Tools ▸ Personalise the model…, also after a restart."
        )
        keep = box.addButton("Keep training in the background", QMessageBox.ButtonRole.AcceptRole)
        pause = box.addButton("Pause it", QMessageBox.ButtonRole.DestructiveRole)
        discard = box.addButton("Discard it", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)

        def chosen() -> None:
            clicked = box.clickedButton()
            if clicked is keep:
                self.hide()
            elif clicked is pause:
                self.training_page.pause()
                self.hide()
            elif clicked is discard:
                self.discard()

        box.finished.connect(chosen)
        box.open()
        return box


def open_finetune(parent: QWidget, state: AppState, thumbnails: ThumbnailCache) -> FineTuneWizard:
    """Show the wizard: the one already open over `parent` (or training in the background), else a new one."""
    existing = parent.findChild(FineTuneWizard)
    if existing is not None and (existing.isVisible() or existing.training_page.running()):
        existing.show()
        existing.raise_()
        existing.activateWindow()
        return existing
    if existing is not None:
        existing.setParent(None)
        existing.deleteLater()
    wizard = FineTuneWizard(parent, state, thumbnails)
    wizard.show()
    return wizard
