"""The welcome's last page: get the chosen model onto this computer and load it.

It downloads and loads through the `TaskRunner`, so the window stays responsive. When that fails
(typically: offline) it says what failed in one sentence, keeps the long text (addresses tried, the OS
error) behind "Show details", and offers to try again or to use a model file or spec on this computer
(`controllers.model_files`), refusing in plain words a file that does not fit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from photosift.app.gui.controllers.model_files import model_from_file
from photosift.app.gui.presenter import failure_details, failure_sentence, first_sentence
from photosift.app.gui.start_folders import downloads_folder
from photosift.app.gui.widgets.progress_status import progress_text
from photosift.app.tasks import TaskRunner
from photosift.core.errors import Cancelled, ModelDownloadError
from photosift.core.library import Library, LibraryEncoder
from photosift.core.models.card import model_card
from photosift.core.models.download import resumable_bytes
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec
from photosift.core.progress import CancelToken, Progress, ProgressCallback
from photosift.core.settings import Paths

Chooser = Callable[[QWidget], Path | None]  # a file dialog, or a fake in tests; None when cancelled
EncoderFactory = Callable[[ModelSpec], LibraryEncoder]
Choice = ModelSpec | Path  # a model of the list, or a file the person picked on the model page

MODEL_FILE_FILTER = (
    "Models (*.json *.safetensors *.pth *.pt *.bin *.weights);;Model specs (*.json);;"
    "Model weights (*.safetensors *.pth *.pt *.bin *.weights);;All files (*)"
)
FROM_FILE = "A model &file or spec on this computer…"
PER_MILLE = 1000  # byte counts overflow a QProgressBar's int, so the bar counts thousandths


def ask_model_file(parent: QWidget) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Choose a model file or spec", downloads_folder(), MODEL_FILE_FILTER)
    return Path(name) if name else None


class DownloadPage(QWizardPage):
    """Downloads (or installs from a file) and loads the chosen model; complete once it is loaded."""

    ready = Signal()  # the encoder is loaded
    failed = Signal(str)  # the sentence now shown; the user can try again or choose a file

    def __init__(
        self,
        chosen: Callable[[], Choice],
        paths: Paths,
        runner: TaskRunner,
        make_encoder: EncoderFactory,
        choose_file: Chooser,
        registry: ModelRegistry,
    ):
        super().__init__()
        self._chosen, self._paths, self._runner, self._registry = chosen, paths, runner, registry
        self._make_encoder, self._choose_file = make_encoder, choose_file
        self.encoder: LibraryEncoder | None = None
        self.spec: ModelSpec | None = None  # the spec `encoder` was made for
        self._choice: Choice | None = None
        self._loaded = False
        self._token: CancelToken | None = None
        self._listening = False  # connected to the runner's progress while an op of this page runs
        self._seq = 0  # bumped per op, and on leaving the page: outcomes of older ops are dropped
        self.setTitle("Get the model")
        self._build()

    def _build(self) -> None:
        self.status = QLabel(wordWrap=True)
        self.status.setAccessibleName("Model status")
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Download progress")
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(32, 32))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.error = QLabel(wordWrap=True)
        self.error.setAccessibleName("Download problem")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QPushButton("Show &details")
        self.details_button.setCheckable(True)
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setAccessibleName("Details of the problem")
        self.details.setVisible(False)
        self.details_button.toggled.connect(self._show_details)
        self.retry_button = QPushButton("&Try again")
        self.retry_button.setAccessibleName("Try the download again")
        self.file_button = QPushButton(FROM_FILE)
        self.file_button.setAccessibleName("Use a model file or spec on this computer")
        self.retry_button.clicked.connect(lambda: self._get(self._choice or self._chosen()))
        self.file_button.clicked.connect(self.use_file)
        self.problem = QWidget()
        problem = QHBoxLayout(self.problem)
        problem.setContentsMargins(0, 0, 0, 0)
        problem.addWidget(icon)
        problem.addWidget(self.error, 1)
        buttons = QHBoxLayout()
        for button in (self.retry_button, self.file_button, self.details_button):
            buttons.addWidget(button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        for widget in (self.status, self.bar, self.problem):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addWidget(self.details, 1)
        layout.addStretch()

    def initializePage(self) -> None:
        choice = self._chosen()
        if choice == self._choice and self._loaded:
            return
        self._get(choice)

    def cleanupPage(self) -> None:
        """Going Back stops the running op; its outcome, if it still arrives, is dropped."""
        self.cancel()

    def cancel(self) -> None:
        """Stop the running op, if any, and drop its outcome."""
        self._seq += 1
        if self._token is not None:
            self._token.cancel()
        self._end_op()

    def isComplete(self) -> bool:
        return self._loaded

    def use_file(self) -> None:
        """Ask for a model file or spec and get the model from it."""
        source = self._choose_file(self)
        if source is not None:
            self._get(source)

    # Ops --------------------------------------------------------------------------------------------

    def _get(self, choice: Choice) -> None:
        self._choice, self._loaded = choice, False
        self.completeChanged.emit()
        if isinstance(choice, Path):
            self._from_file(choice)
        else:
            self._load(choice)

    def _load(self, spec: ModelSpec) -> None:
        if spec != self.spec or self.encoder is None:
            self.spec, self.encoder = spec, self._make_encoder(spec)
        encoder = self.encoder
        self.setSubTitle(f"{model_card(spec).title}. {size_text(spec, self._paths)}.")
        self._start("Starting…", lambda _lib, progress, cancel: encoder.load(progress, cancel), self._on_loaded)

    def _from_file(self, source: Path) -> None:
        fallback = self._chosen()
        chosen = fallback if isinstance(fallback, ModelSpec) else self.spec or self._registry.default_spec("cpu")
        registry, paths = self._registry, self._paths

        def read(_lib: Library, _progress: ProgressCallback, cancel: CancelToken) -> ModelSpec:
            return model_from_file(source, chosen, registry, paths, cancel)

        self.setSubTitle(f"From {source.name}")
        self._start(f"Checking that {source.name} is a model Photosift can use…", read, self._load, source)

    def _start(
        self,
        status: str,
        work: Callable[[Library, ProgressCallback, CancelToken], object],
        on_done: Callable[..., None],
        source: Path | None = None,
    ) -> None:
        """Run `work` as the page's one long op; `source` marks a file, whose failures name it."""
        self.cancel()
        seq = self._seq
        self.status.setText(status)
        self.bar.setRange(0, 0)
        self.bar.setVisible(True)
        for widget in (self.problem, self.retry_button, self.file_button, self.details_button, self.details):
            widget.setVisible(False)
        self._runner.progress.connect(self._on_progress)
        self._listening = True

        def done(result: object) -> None:
            if seq == self._seq:
                self._end_op()
                on_done(result)

        def failed(exc: BaseException) -> None:
            if seq == self._seq:
                self._end_op()
                self._on_failed(exc, source)

        self._token = self._runner.run_long_op(work, done, failed)

    def _end_op(self) -> None:
        """Forget the op's token and stop listening to progress."""
        self._token = None
        if self._listening:
            self._runner.progress.disconnect(self._on_progress)
            self._listening = False

    def _on_progress(self, p: Progress) -> None:
        if p.stage not in ("download", "load"):  # another op's progress (the main window may be indexing)
            return
        if p.stage == "load":
            self.status.setText(f"Loading {model_card(self.spec).title if self.spec else 'the model'}…")
            self.bar.setRange(0, 0)
            return
        self.status.setText(progress_text(p))
        if p.total:
            self.bar.setRange(0, PER_MILLE)
            self.bar.setValue(min(PER_MILLE, round(PER_MILLE * p.done / p.total)))

    def _on_loaded(self, _: object) -> None:
        self._loaded = True
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.status.setText(
            "The model is ready. Choose Finish: Photosift then indexes your photos in the background, and "
            "you can search while it works."
        )
        self.completeChanged.emit()
        self.ready.emit()

    def _on_failed(self, exc: BaseException, source: Path | None) -> None:
        sentence = "Stopped." if isinstance(exc, Cancelled) else failure_sentence(exc)
        if sentence is None:
            self._runner.present(exc)  # a bug: the crash dialog and the log
            sentence = "Something went wrong inside Photosift."
        if source is not None:
            sentence = f"Nothing was installed from {source.name}. {sentence}"
        elif isinstance(exc, ModelDownloadError):  # the rest of the message (how to fetch it by hand) is a detail
            by_file = FROM_FILE.replace("&", "")
            sentence = f"{first_sentence(sentence)} If you have the model's file or a model spec, choose “{by_file}”."
        self.status.setText("The model is not ready yet.")
        self.bar.setVisible(False)
        self.error.setText(sentence)
        self.details.setPlainText("\n\n".join(part for part in (str(exc), failure_details(exc)) if part))
        self.details_button.setChecked(False)
        self.problem.setVisible(True)
        self.retry_button.setVisible(source is None)
        self.file_button.setVisible(True)
        self.details_button.setVisible(bool(self.details.toPlainText()))
        self.failed.emit(sentence)

    def _show_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText("Hide &details" if shown else "Show &details")


def size_text(spec: ModelSpec, paths: Paths) -> str:
    """What choosing `spec` costs in downloading: "Download: 605 MB", "Already downloaded", ..."""
    weights = spec.weights_file(paths)
    if weights is None:
        return "No download needed"
    if weights.is_file():
        return "Already downloaded"
    if spec.download_mb <= 0:
        return "Download size not known"
    fetched = resumable_bytes(weights) / 1e6
    resumes = f" ({_megabytes(fetched)} already fetched)" if fetched else ""
    return f"Download: {_megabytes(spec.download_mb)}{resumes}"


def _megabytes(mb: float) -> str:
    return f"{mb / 1000:.1f} GB" if mb >= 1000 else f"{round(mb, 1):g} MB"
