"""The first-run welcome: choose photo folders, choose a model, get its weights, then hand over.

Three wizard pages. The last one downloads and loads the chosen model through the `TaskRunner`, so the
window stays responsive; when the download fails (typically: offline) it says why and offers to try
again or to install the weights from a file on this computer, refusing a file that does not fit.
What to do with the result (switch the library to the model, add the folders, start indexing) is the
caller's business: this dialog only collects `folders()`, `chosen_spec()` and a loaded `encoder`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QStyle,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from photosift.app.gui.widgets.progress_status import progress_text
from photosift.app.tasks import TaskRunner
from photosift.core.errors import Cancelled, EnvironmentFault, ModelDownloadError, UserError
from photosift.core.library import Library, LibraryEncoder
from photosift.core.models.download import resumable_bytes
from photosift.core.models.spec import ModelSpec
from photosift.core.models.weights import install_weights
from photosift.core.progress import CancelToken, Progress, ProgressCallback
from photosift.core.settings import Paths

Chooser = Callable[[QWidget], Path | None]  # a file dialog, or a fake in tests; None when cancelled
EncoderFactory = Callable[[ModelSpec], LibraryEncoder]

DEVICE_NAMES = {"cuda": "NVIDIA GPU", "mps": "Apple GPU", "cpu": "processor (CPU)"}
WEIGHTS_FILTER = "Model weights (*.safetensors *.pth *.pt *.bin *.weights);;All files (*)"
PER_MILLE = 1000  # byte counts overflow a QProgressBar's int, so the bar counts thousandths


def ask_folder(parent: QWidget) -> Path | None:
    """The platform's folder chooser; it reaches removable and network drives like any other folder."""
    folder = QFileDialog.getExistingDirectory(parent, "Add a photo folder")
    return Path(folder) if folder else None


def ask_weights_file(parent: QWidget) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Choose the model's weights file", "", WEIGHTS_FILTER)
    return Path(name) if name else None


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


def speed_text(spec: ModelSpec, device_kind: str) -> str:
    """The measured indexing speed on this kind of device; never an estimate where nobody measured."""
    device = DEVICE_NAMES.get(device_kind, device_kind)
    rate = spec.speed_on(device_kind)
    if rate is None:
        return f"Indexing speed on this computer's {device}: not measured"
    return f"Indexing on this computer's {device}: about {rate:.3g} photos a second"


class FoldersPage(QWizardPage):
    """Any number of folders, one Add… at a time; at least one is needed to go on."""

    def __init__(self, choose_folder: Chooser):
        super().__init__()
        self._choose_folder = choose_folder
        self.setTitle("Welcome to Photosift")
        self.setSubTitle(
            "Photosift finds photos by what is in them. Choose the folders that hold your photos: as many "
            "as you like, on this computer or on removable and network drives."
        )
        self.list = QListWidget()
        self.list.setAccessibleName("Photo folders")
        self.add_button = QPushButton("&Add folder…")
        self.add_button.setAccessibleName("Add a photo folder")
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setAccessibleName("Remove the selected folder")
        self.remove_button.setEnabled(False)
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.list.currentRowChanged.connect(lambda row: self.remove_button.setEnabled(row >= 0))
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch()
        layout = QHBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)

    def folders(self) -> list[Path]:
        return [Path(self.list.item(row).text()) for row in range(self.list.count())]

    def isComplete(self) -> bool:
        return self.list.count() > 0

    def _add(self) -> None:
        folder = self._choose_folder(self)
        if folder is not None and folder not in self.folders():
            self.list.addItem(str(folder))
            self.list.setCurrentRow(self.list.count() - 1)
            self.completeChanged.emit()

    def _remove(self) -> None:
        self.list.takeItem(self.list.currentRow())
        self.completeChanged.emit()


class ModelPage(QWizardPage):
    """One radio button per model, with what it costs to download and how fast it indexes here."""

    def __init__(self, specs: list[ModelSpec], default: ModelSpec, device_kind: str, paths: Paths):
        super().__init__()
        self.setTitle("Choose a model")
        self.setSubTitle(
            "The model is what understands your photos. The recommended one suits this computer's hardware."
        )
        self._group = QButtonGroup(self)
        self._specs = specs if default in specs else [default, *specs]  # a spec file outside the registry
        self.buttons: list[QRadioButton] = []
        self._labels: list[QLabel] = []
        layout = QVBoxLayout(self)
        for number, spec in enumerate(self._specs):
            recommended = " (recommended for this computer)" if spec == default else ""
            button = QRadioButton(f"{spec.title}{recommended}")
            details = f"{size_text(spec, paths)}. {speed_text(spec, device_kind)}."
            button.setAccessibleDescription(f"{spec.description} {details}")
            button.setChecked(spec == default)
            label = QLabel(f"{spec.description}\n{details}")
            label.setWordWrap(True)
            label.setIndent(button.style().pixelMetric(QStyle.PixelMetric.PM_ExclusiveIndicatorWidth) * 2)
            self._group.addButton(button, number)
            self.buttons.append(button)
            self._labels.append(label)
            layout.addWidget(button)
            layout.addWidget(label)
        layout.addStretch()

    def details(self, spec: ModelSpec) -> str:
        """The text shown under `spec`'s button."""
        return self._labels[self._specs.index(spec)].text()

    def chosen(self) -> ModelSpec:
        return self._specs[self._group.checkedId()]


class DownloadPage(QWizardPage):
    """Downloads and loads the chosen model; complete (Finish enabled) once it is loaded."""

    ready = Signal()  # the encoder is loaded
    failed = Signal(str)  # the message now shown; the user can try again or choose a file

    def __init__(
        self,
        chosen: Callable[[], ModelSpec],
        paths: Paths,
        runner: TaskRunner,
        make_encoder: EncoderFactory,
        choose_file: Chooser,
    ):
        super().__init__()
        self._chosen, self._paths, self._runner = chosen, paths, runner
        self._make_encoder, self._choose_file = make_encoder, choose_file
        self.encoder: LibraryEncoder | None = None
        self._spec: ModelSpec | None = None  # the spec `encoder` was made for
        self._loaded = False
        self._token: CancelToken | None = None
        self._listening = False  # connected to the runner's progress while an op of this page runs
        self._seq = 0  # bumped per op, and on leaving the page: outcomes of older ops are dropped
        self.setTitle("Get the model")
        self._build()

    def _build(self) -> None:
        self.status = QLabel()
        self.status.setAccessibleName("Model status")
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Download progress")
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(32, 32))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.error = QLabel()
        self.error.setAccessibleName("Download problem")
        self.error.setWordWrap(True)
        # Selectable, so the URL and the path in the message can be copied into a browser or a file manager.
        self.error.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.retry_button = QPushButton("&Try again")
        self.retry_button.setAccessibleName("Try the download again")
        self.file_button = QPushButton("&Use a file on this computer…")
        self.file_button.setAccessibleName("Install the model from a file on this computer")
        self.retry_button.clicked.connect(self._load)
        self.file_button.clicked.connect(self._use_file)
        self.problem = QWidget()
        problem = QHBoxLayout(self.problem)
        problem.setContentsMargins(0, 0, 0, 0)
        problem.addWidget(icon)
        problem.addWidget(self.error, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.file_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        for widget in (self.status, self.bar, self.problem):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addStretch()

    def initializePage(self) -> None:
        spec = self._chosen()
        self.setSubTitle(f"{spec.title}: {size_text(spec, self._paths).lower()}.")
        if spec == self._spec and self._loaded:
            return
        self._spec, self._loaded = spec, False
        self.encoder = self._make_encoder(spec)
        self._load()

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

    # Ops --------------------------------------------------------------------------------------------

    def _load(self) -> None:
        encoder = self.encoder
        assert encoder is not None
        self._start("Starting…", lambda _lib, progress, cancel: encoder.load(progress, cancel), self._on_loaded)

    def _use_file(self) -> None:
        source = self._choose_file(self)
        if source is None:
            return
        spec, paths = self._spec, self._paths
        assert spec is not None

        def install(_lib: Library, _progress: ProgressCallback, cancel: CancelToken) -> None:
            install_weights(source, spec, paths, cancel)

        self._start(f"Checking that {source.name} fits the model…", install, lambda _: self._load(), source)

    def _start(
        self,
        status: str,
        work: Callable[[Library, ProgressCallback, CancelToken], object],
        on_done: Callable[[object], None],
        source: Path | None = None,
    ) -> None:
        """Run `work` as the page's one long op; `source` marks an install, whose failures name the file."""
        self.cancel()
        seq = self._seq
        self.status.setText(status)
        self.bar.setRange(0, 0)
        self.problem.setVisible(False)
        self.retry_button.setVisible(False)
        self.file_button.setVisible(False)
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
            self.status.setText(f"Loading {self._spec.title if self._spec else 'the model'}…")
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
        if isinstance(exc, Cancelled):
            message = "Stopped."
        elif isinstance(exc, (UserError, EnvironmentFault)):
            message = str(exc)
        else:
            message = "Something went wrong inside Photosift."
        weights = self._spec.weights_file(self._paths) if self._spec else None
        if source is not None:
            message = f"{source} was not installed, nothing was copied: {message}"
        elif isinstance(exc, ModelDownloadError) and weights is not None and not weights.is_file():
            message += " If you already have the file, choose “Use a file on this computer…”."
        self.status.setText("The model is not ready yet.")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.error.setText(message)
        self.problem.setVisible(True)
        self.retry_button.setVisible(True)
        self.file_button.setVisible(weights is not None)
        self.failed.emit(message)
        if not isinstance(exc, (UserError, EnvironmentFault, Cancelled)):
            raise exc  # a bug: the excepthook logs it and tells the user


class WelcomeDialog(QWizard):
    """The first-run wizard. After `exec()` returns Accepted, `folders()`, `chosen_spec()` and `encoder`
    (loaded) say what the user chose."""

    def __init__(
        self,
        specs: list[ModelSpec],
        default: ModelSpec,
        device_kind: str,
        paths: Paths,
        runner: TaskRunner,
        make_encoder: EncoderFactory,
        parent: QWidget | None = None,
        choose_folder: Chooser = ask_folder,
        choose_file: Chooser = ask_weights_file,
    ):
        super().__init__(parent)
        self.setWindowTitle("Welcome to Photosift")
        self.folders_page = FoldersPage(choose_folder)
        self.model_page = ModelPage(specs, default, device_kind, paths)
        self.download_page = DownloadPage(self.model_page.chosen, paths, runner, make_encoder, choose_file)
        for page in (self.folders_page, self.model_page, self.download_page):
            self.addPage(page)

    def folders(self) -> list[Path]:
        return self.folders_page.folders()

    def chosen_spec(self) -> ModelSpec:
        return self.model_page.chosen()

    @property
    def encoder(self) -> LibraryEncoder | None:
        """The chosen model's encoder, loaded once the dialog was accepted."""
        return self.download_page.encoder

    def reject(self) -> None:
        """Cancel (or Escape, or closing the window) stops a download in progress."""
        self.download_page.cancel()
        super().reject()
