"""The GUI's application state: the current library, its settings and its model, in one object that the
window, the dialogs and the ops share (Anki's `mw.col` and `CollectionOp`, without the window).

It is the only place a model switch happens. A switch away from a model that cannot answer searches
anyway (its weights were never downloaded) takes over at once; otherwise the indexing controller embeds
every photo with the new model in the background and says so (`model_embedded`), and the state swaps
then. Either way the swap is `_swap`, announced as `model_switched`. Writes announce what they changed
through `changed`, which views listen to instead of reaching into each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QDeadlineTimer, QObject, Signal

from photosift.app.gui.controllers.indexing import IndexingController
from photosift.app.gui.controllers.text_reading import TextReading
from photosift.app.main import ModelProvider
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library, LibraryEncoder
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths, Settings, save_settings


@dataclass(frozen=True)
class Changes:
    """What a write changed, so each view refreshes only what it shows."""

    photos: bool = False  # photos were added, removed or (re-)embedded
    tags: bool = False  # tags or the user's verdicts on them
    albums: bool = False
    folders: bool = False  # the library's folders, their states or counts


class AppState(QObject):
    """The current library, settings and model of the running app.

    The runner holds the library that answers searches (its writer thread needs it); this object is how
    everything on the GUI thread reads it and the only way it is replaced. It owns the library's
    background work (indexing, the OCR pass) and ends it with `close`.
    """

    model_switched = Signal(object)  # the Library now answering searches
    changed = Signal(object)  # a Changes
    notice = Signal(str)  # a sentence for the status line

    def __init__(
        self, runner: TaskRunner, indexing: IndexingController, models: ModelProvider, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.runner, self.indexing, self.models = runner, indexing, models
        self.text_reading = TextReading(runner, indexing, self)  # OCR after indexing (core.ocr)
        indexing.model_embedded.connect(self._swap)
        indexing.folders_changed.connect(lambda: self.changed.emit(Changes(folders=True, photos=True)))

    @property
    def library(self) -> Library:
        """The library answering searches now (a model switch replaces it)."""
        return self.runner.library

    @property
    def settings(self) -> Settings:
        return self.runner.library.settings

    @property
    def paths(self) -> Paths:
        return self.runner.library.paths

    def model_ready(self) -> bool:
        """Whether the current model can run: its weights are on this computer (or it needs none)."""
        return self.models.registry.is_downloaded(self.library.spec)

    def announce(self, changes: Changes) -> None:
        """Tell every view what a write changed."""
        self.changed.emit(changes)

    def save_settings(self, settings: Settings) -> None:
        """Make `settings` current (for a model being switched to as well) and write them to disk."""
        self.library.settings = settings
        target = self.indexing.switching_to
        if target is not None:
            target.settings = settings
        save_settings(self.paths, settings)

    def model_reference(self, spec: ModelSpec) -> str:
        """What the settings store to find `spec` again: its name when the registry knows it, else its file."""
        known = {s.name for s in self.models.registry.specs()}
        return spec.name if spec.name in known or spec.path is None else str(spec.path)

    def switch_model(
        self, spec: ModelSpec, encoder: LibraryEncoder | None = None, then: Callable[[], None] | None = None
    ) -> bool:
        """Search with `spec` from now on (saved in the settings); `encoder` is one already loaded for it.

        Returns whether a switch started (False when `spec` already answers searches on this device).
        `then` runs once the new model answers searches, or once the background switch has started.
        """
        from photosift.core.models.encoder import select_device  # torch: only once a switch is asked for

        settings = self.settings.with_changes(model=self.model_reference(spec))
        self.save_settings(settings)
        library = self.library
        same = spec.key == library.spec.key and select_device(settings.device) == library.encoder.device
        if same and encoder is None and self.model_ready():
            return False
        encoder = encoder or self.models.make_encoder(spec, settings.device)
        # At once when the embeddings are the same model's, or nothing could search meanwhile anyway.
        at_once = same or not self.model_ready()

        def built(new: Library) -> None:
            if at_once:
                self._swap(new)
                self.indexing.catch_up()  # folders kept while no model was ready are indexed now
            else:
                self.indexing.embed_model(new)
                self.notice.emit(
                    f"Switching to {spec.title}: photos are embedded in the background; searches use "
                    f"{library.spec.title} until then."
                )
            if then is not None:
                then()

        self.runner.run_op(lambda lib: lib.with_model(spec, encoder), built, writes=True)  # a catalog write
        return True

    def add_folders(self, folders: Iterable[Path]) -> None:
        """Add photo folders. They are scanned and indexed at once when a model is ready, else kept in the
        library and indexed as soon as one is (see `switch_model`)."""
        for folder in folders:
            if self.model_ready():
                self.indexing.add_folder(folder)
            else:
                self._keep_folder(folder)

    def _keep_folder(self, folder: Path) -> None:
        """Add `folder` to the library without scanning it: there is no model to index it with yet."""
        self.runner.run_op(
            lambda lib: lib.add_folder(folder), lambda _: self.announce(Changes(folders=True)), writes=True
        )

    def _swap(self, new: Library) -> None:
        """Make `new` answer searches (the runner's next op gets it) and free the old model's memory."""
        old, self.runner.library = self.runner.library, new
        old.encoder.release()
        self.model_switched.emit(new)
        self.indexing.watch()  # the new settings may watch otherwise (polling)

    def close(self, wait_ms: int = -1) -> bool:
        """Stop the library's background work and close the library (quitting); returns whether it closed.

        Long ops (indexing, a model switch, the OCR pass) are cancelled and reads not started yet dropped;
        what runs gets `wait_ms` in all to finish (-1: as long as it takes). The library is closed (its
        index saved if it changed) only once nothing runs on it any more; otherwise it is left as it is:
        every catalog write is a transaction and every file is written whole, so work cut short by the
        process ending leaves both consistent, and an index not saved is rebuilt from the catalog.
        """
        deadline = QDeadlineTimer(wait_ms)
        self.indexing.stop_watching()
        self.text_reading.stop()  # asked to stop at once; waited for below, beside the runner's ops
        finished = self.runner.shutdown(deadline.remainingTime())
        if not (self.text_reading.stop(deadline.remainingTime()) and finished):
            return False
        self.library.close()  # a model switch may have replaced the library the app started with
        return True
