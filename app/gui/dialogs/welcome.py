"""The welcome: choose photo folders, choose a model, get it onto this computer, then hand over.

Three wizard pages; the last is `get_model.DownloadPage`. The model page lists the models in plain words
(what each means to a person; the architecture in a details line) and offers a model file or spec on
this computer. What to do with the result (switch to the model, add the folders, start indexing) is the
caller's business: this dialog only collects `folders()`, `chosen_spec()` and a loaded `encoder`. It
opens at a first start, at every start while no model is usable, and from Help ▸ Welcome….
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QRadioButton,
    QStyle,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from photosift.app.gui.dialogs.get_model import (
    FROM_FILE,
    Choice,
    Chooser,
    DownloadPage,
    EncoderFactory,
    ask_model_file,
    size_text,
)
from photosift.app.gui.start_folders import pictures_folder
from photosift.app.tasks import TaskRunner
from photosift.core.library import LibraryEncoder
from photosift.core.models.card import model_card
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths

WELCOME_SIZE = (780, 720)  # room for every model's two lines of details without clipping them
DEVICE_NAMES = {"cuda": "NVIDIA GPU", "mps": "Apple GPU", "cpu": "processor (CPU)"}


def ask_folder(parent: QWidget) -> Path | None:
    """The platform's folder chooser, opening in the Pictures folder; it reaches removable and network
    drives like any other folder."""
    folder = QFileDialog.getExistingDirectory(parent, "Add a photo folder", pictures_folder())
    return Path(folder) if folder else None


def speed_text(spec: ModelSpec, device_kind: str) -> str:
    """The measured indexing speed on this kind of device; never an estimate where nobody measured."""
    device = DEVICE_NAMES.get(device_kind, device_kind)
    rate = spec.speed_on(device_kind)
    if rate is None:
        return f"Indexing speed on this computer's {device}: not measured"
    return f"Indexing on this computer's {device}: about {rate:.3g} photos a second"


class FoldersPage(QWizardPage):
    """Any number of folders, one Add… at a time; at least one is needed to go on."""

    def __init__(self, choose_folder: Chooser, known: list[Path]):
        super().__init__()
        self._choose_folder, self._known = choose_folder, known
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
        # Next stays greyed until a folder is chosen: this says why, where a blank list said nothing.
        self.hint = QLabel("No folder yet: choose Add folder… (one is enough to start; add more any time).")
        self.hint.setWordWrap(True)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch()
        column = QVBoxLayout()
        column.addWidget(self.list)
        column.addWidget(self.hint)
        layout = QHBoxLayout(self)
        layout.addLayout(column)
        layout.addLayout(buttons)
        for folder in known:
            self.list.addItem(str(folder))
        self.hint.setVisible(not known)

    def folders(self) -> list[Path]:
        return [Path(self.list.item(row).text()) for row in range(self.list.count())]

    def new_folders(self) -> list[Path]:
        return [folder for folder in self.folders() if folder not in self._known]

    def isComplete(self) -> bool:
        return self.list.count() > 0

    def _add(self) -> None:
        folder = self._choose_folder(self)
        if folder is not None and folder not in self.folders():
            self.list.addItem(str(folder))
            self.list.setCurrentRow(self.list.count() - 1)
            self.hint.hide()
            self.completeChanged.emit()

    def _remove(self) -> None:
        self.list.takeItem(self.list.currentRow())
        self.hint.setVisible(not self.list.count())
        self.completeChanged.emit()


class ModelPage(QWizardPage):
    """One radio button per model, named in plain words, with its architecture, what it costs to
    download and how fast it indexes here in a details line; and a model file or spec on this computer."""

    def __init__(
        self, specs: list[ModelSpec], default: ModelSpec, device_kind: str, paths: Paths, choose_file: Chooser
    ):
        super().__init__()
        self.setTitle("Choose a model")
        self.setSubTitle(
            "The model is what understands your photos. The recommended one suits this computer's hardware."
        )
        self._choose_file = choose_file
        self._group = QButtonGroup(self)
        self._specs = specs if default in specs else [default, *specs]  # a spec file outside the registry
        self.file: Path | None = None  # a model file or spec the person picked here
        self.buttons: list[QRadioButton] = []
        self._labels: list[QLabel] = []
        self._layout = QVBoxLayout(self)
        for spec in self._specs:
            card = model_card(spec)
            recommended = " (recommended for this computer)" if spec == default else ""
            details = f"{card.details}.\n{size_text(spec, paths)}. {speed_text(spec, device_kind)}."
            self._add_choice(f"{card.title}{recommended}", details, spec.description).setChecked(spec == default)
        self.file_button = QPushButton(FROM_FILE)
        self.file_button.setAccessibleName("Use a model file or spec on this computer")
        self.file_button.clicked.connect(self.choose_file)
        row = QHBoxLayout()
        row.addWidget(self.file_button)
        row.addStretch()
        self._layout.addLayout(row)
        self._layout.addStretch()

    def _add_choice(self, text: str, details: str, about: str) -> QRadioButton:
        button = QRadioButton(text)
        button.setAccessibleDescription(f"{about} {details}")
        label = QLabel(details, wordWrap=True)
        label.setIndent(button.style().pixelMetric(QStyle.PixelMetric.PM_ExclusiveIndicatorWidth) * 2)
        self._group.addButton(button, len(self.buttons))
        self.buttons.append(button)
        self._labels.append(label)
        self._layout.insertWidget(2 * (len(self.buttons) - 1), button)
        self._layout.insertWidget(2 * len(self.buttons) - 1, label)
        return button

    def choose_file(self) -> None:
        """Ask for a model file or spec; it becomes the choice (one file at a time)."""
        source = self._choose_file(self)
        if source is None:
            return
        if self.file is None:
            self._add_choice("", "", "")
        self.file = source
        self.buttons[-1].setText(f"From this computer: {source.name}")
        self._labels[-1].setText(f"{source}. A model spec, the weights of a model above, or another checkpoint.")
        self.buttons[-1].setChecked(True)

    def details(self, spec: ModelSpec) -> str:
        """The text shown under `spec`'s button."""
        return self._labels[self._specs.index(spec)].text()

    def chosen(self) -> Choice:
        number = self._group.checkedId()
        return self._specs[number] if number < len(self._specs) or self.file is None else self.file


class WelcomeDialog(QWizard):
    """The welcome wizard. Once accepted, `folders()`, `chosen_spec()` and `encoder` (loaded) say what
    the user chose; after Cancel, `folders()` still holds the folders chosen."""

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
        choose_file: Chooser = ask_model_file,
        registry: ModelRegistry | None = None,
        folders: list[Path] | None = None,
    ):
        """`folders` are those the library has already (listed, not added again)."""
        super().__init__(parent)
        self.setWindowTitle("Welcome to Photosift")
        self.resize(*WELCOME_SIZE)
        self.folders_page = FoldersPage(choose_folder, folders or [])
        self.model_page = ModelPage(specs, default, device_kind, paths, choose_file)
        self.download_page = DownloadPage(
            self.model_page.chosen, paths, runner, make_encoder, choose_file, registry or ModelRegistry(paths)
        )
        for page in (self.folders_page, self.model_page, self.download_page):
            self.addPage(page)

    def folders(self) -> list[Path]:
        return self.folders_page.folders()

    def new_folders(self) -> list[Path]:
        """The folders chosen here that the library does not have yet."""
        return self.folders_page.new_folders()

    def chosen_spec(self) -> ModelSpec | None:
        """The model loaded (a file's spec once it was read), else the one chosen on the model page."""
        chosen = self.model_page.chosen()
        return self.download_page.spec or (chosen if isinstance(chosen, ModelSpec) else None)

    @property
    def encoder(self) -> LibraryEncoder | None:
        """The chosen model's encoder, loaded once the dialog was accepted."""
        return self.download_page.encoder

    def reject(self) -> None:
        """Cancel (or Escape, or closing the window) stops a download in progress."""
        self.download_page.cancel()
        super().reject()
