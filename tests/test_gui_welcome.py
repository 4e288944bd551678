"""The first-run welcome offscreen, over a real library and task runner: choosing folders, the recommended
model with its size and speed, a download that cannot reach its server, installing the weights from a
file (a wrong one refused, the right one used), and Cancel stopping a download. The only "network" is a
closed port on the loopback interface."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import safetensors.torch
from conftest import TEST_MODELS, WAIT_MS, leave_partial_download
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QWizard
from pytestqt.qtbot import QtBot
from test_library import open_library
from test_model_weights import closed_port_url

from photosift.app.gui.dialogs.get_model import size_text
from photosift.app.gui.dialogs.welcome import WelcomeDialog
from photosift.app.tasks import TaskRunner
from photosift.core.errors import Cancelled
from photosift.core.library import Library, LibraryEncoder
from photosift.core.models.build import build_model
from photosift.core.models.encoder import Encoder
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec, WeightsSource, load_spec
from photosift.core.progress import CancelToken, Progress, ProgressCallback
from photosift.core.settings import Paths


class Chooser:
    """A fake file dialog: hands out the given answers in order."""

    def __init__(self, *answers: Path | None) -> None:
        self.answers = list(answers)

    def __call__(self, parent: object) -> Path | None:
        return self.answers.pop(0)


@pytest.fixture
def library(home: Path) -> Iterator[Library]:
    library = open_library(home)
    yield library
    library.close()


@pytest.fixture
def tiny() -> ModelSpec:
    return load_spec(TEST_MODELS / "tiny.json")


@pytest.fixture
def offline(tiny: ModelSpec, monkeypatch: pytest.MonkeyPatch) -> ModelSpec:
    """The tiny architecture as a model to download from a server that is not there."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a proxy in the environment must not be asked instead
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    weights = WeightsSource((closed_port_url(),), "tiny-offline.safetensors")
    return replace(
        tiny,
        name="tiny-offline",
        title="Tiny offline",
        random_init=False,
        weights=weights,
        download_mb=1.5,
        indexing_speed=(("cpu", 42.0),),
    )


def make_dialog(
    qtbot: QtBot,
    runner: TaskRunner,
    specs: list[ModelSpec],
    default: ModelSpec,
    folders: Chooser,
    files: Chooser | None = None,
) -> WelcomeDialog:
    paths = runner.library.paths
    dialog = WelcomeDialog(
        specs,
        default,
        "cpu",
        paths,
        runner,
        lambda spec: Encoder(spec, paths, "cpu"),
        choose_folder=folders,
        choose_file=files or Chooser(),
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def save_weights(spec_file: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_file(build_model(load_spec(TEST_MODELS / spec_file)).state_dict(), str(path))
    return path


def test_first_run_with_a_model_that_cannot_be_downloaded(
    qtbot: QtBot, runner: TaskRunner, offline: ModelSpec, tiny: ModelSpec, tmp_path: Path
) -> None:
    folders = [tmp_path / "Pictures", Path("/media/usb stick/DCIM"), Path("//nas/photos")]
    wrong = save_weights("tiny-wide.json", tmp_path / "wide.safetensors")
    right = save_weights("tiny.json", tmp_path / "Downloads" / "tiny.safetensors")
    dialog = make_dialog(qtbot, runner, [tiny, offline], offline, Chooser(*folders), Chooser(wrong, right))
    next_button = dialog.button(QWizard.WizardButton.NextButton)
    finish = dialog.button(QWizard.WizardButton.FinishButton)
    page = dialog.folders_page
    assert not next_button.isEnabled() and page.hint.isVisibleTo(page)  # no folder yet, and it says so
    for _ in folders:
        qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    assert not page.hint.isVisibleTo(page)
    page.list.setCurrentRow(0)
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert page.folders() == folders[1:] and next_button.isEnabled() and not page.hint.isVisibleTo(page)

    dialog.next()
    assert dialog.chosen_spec() == offline  # the recommended model is preselected
    download = dialog.download_page
    with qtbot.waitSignal(download.failed, timeout=WAIT_MS) as failed:
        dialog.next()
    message = failed.args[0]
    assert "The Tiny offline model could not be downloaded" in message and "are you offline?" in message
    assert "A model file or spec on this computer" in message and download.error.text() == message
    assert "http://" not in message and len(message) < 250  # the addresses tried are behind Show details
    assert download.problem.isVisibleTo(dialog) and download.retry_button.isVisibleTo(dialog)
    assert download.file_button.isVisibleTo(dialog) and not finish.isEnabled()
    assert not download.details.isVisibleTo(dialog) and download.details_button.isVisibleTo(dialog)
    qtbot.mouseClick(download.details_button, Qt.MouseButton.LeftButton)
    assert download.details.isVisibleTo(dialog) and "http://127.0.0.1" in download.details.toPlainText()
    with qtbot.waitSignal(download.failed, timeout=WAIT_MS) as again:
        qtbot.mouseClick(download.retry_button, Qt.MouseButton.LeftButton)
    assert again.args == [message]

    installed = runner.library.paths.models / "tiny-offline.safetensors"
    with qtbot.waitSignal(download.failed, timeout=WAIT_MS) as refused:
        qtbot.mouseClick(download.file_button, Qt.MouseButton.LeftButton)
    assert refused.args[0] == (
        "Nothing was installed from wide.safetensors. wide.safetensors does not fit “Tiny offline”: choose a "
        "model spec (.json), or weights made for the model chosen on the previous page."
    )
    assert "does not fit tiny-offline" in download.details.toPlainText()  # what torch found, for a bug report
    assert not installed.exists() and not finish.isEnabled()

    with qtbot.waitSignal(download.ready, timeout=WAIT_MS):
        qtbot.mouseClick(download.file_button, Qt.MouseButton.LeftButton)
    assert installed.read_bytes() == right.read_bytes() and right.is_file()
    assert finish.isEnabled() and not download.problem.isVisibleTo(dialog)
    assert isinstance(dialog.encoder, Encoder) and dialog.encoder.is_loaded

    qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.folders() == folders[1:] and dialog.chosen_spec() == offline


@pytest.mark.parametrize("kind", ["cpu", "cuda"])
def test_the_hardware_default_is_recommended_with_size_and_speed(qtbot: QtBot, runner: TaskRunner, kind: str) -> None:
    paths = runner.library.paths
    registry = ModelRegistry(paths)
    default = registry.default_spec(kind)
    dialog = WelcomeDialog(registry.specs(), default, kind, paths, runner, lambda spec: Encoder(spec, paths, "cpu"))
    qtbot.addWidget(dialog)
    page = dialog.model_page
    assert dialog.chosen_spec() == default
    recommended = [button.text() for button in page.buttons if "recommended" in button.text()]
    assert recommended == [f"{default.summary} (recommended for this computer)"]
    assert all(button.accessibleDescription() for button in page.buttons)
    metaclip, mcip = registry.resolve("vit-b-32-metaclip"), registry.resolve("mcip-siglip-so400m-384")
    assert page.details(mcip).startswith(f"{mcip.details}.\n")  # the architecture, in the details line
    texts = " ".join([*(b.text() for b in page.buttons), *(page.details(s) for s in (metaclip, mcip))])
    assert "embedding" not in texts and " mb" not in texts
    if kind == "cpu":  # measured: MetaCLIP on a CPU; never measured: MCIP anywhere
        assert "Download: 605 MB. Indexing on this computer's processor (CPU): about 42 photos a second." in (
            page.details(metaclip)
        )
        assert "Download: 3.5 GB. Indexing speed on this computer's processor (CPU): not measured." in (
            page.details(mcip)
        )
    else:  # a CPU measurement says nothing about a GPU
        assert "Indexing speed on this computer's NVIDIA GPU: not measured." in page.details(metaclip)
        assert "Download: 3.5 GB. Indexing speed on this computer's NVIDIA GPU: not measured." in page.details(mcip)


def test_an_unfinished_download_shows_what_it_has_fetched(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    mcip = ModelRegistry(paths).resolve("mcip-siglip-so400m-384")
    weights = mcip.weights_file(paths)
    assert weights is not None and size_text(mcip, paths) == "Download: 3.5 GB"
    leave_partial_download(weights, 1_250_000_000)
    assert size_text(mcip, paths) == "Download: 3.5 GB (1.2 GB already fetched)"


def test_a_model_without_weights_to_download_loads_at_once(
    qtbot: QtBot, runner: TaskRunner, offline: ModelSpec, tiny: ModelSpec, tmp_path: Path
) -> None:
    dialog = make_dialog(qtbot, runner, [tiny], offline, Chooser(tmp_path))  # a default from outside the list
    qtbot.mouseClick(dialog.folders_page.add_button, Qt.MouseButton.LeftButton)
    dialog.next()
    buttons = dialog.model_page.buttons
    assert [button.text() for button in buttons] == ["Tiny offline (recommended for this computer)", tiny.title]
    assert "No download needed. Indexing speed on this computer's processor (CPU): not measured." in (
        dialog.model_page.details(tiny)
    )
    assert "Download: 1.5 MB. Indexing on this computer's processor (CPU): about 42 photos a second." in (
        dialog.model_page.details(offline)
    )
    dialog.activateWindow()
    buttons[0].setFocus()
    qtbot.waitUntil(buttons[0].hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(buttons[0], Qt.Key.Key_Down)  # arrow keys move between the models
    assert dialog.chosen_spec() == tiny
    with qtbot.waitSignal(dialog.download_page.ready, timeout=WAIT_MS):
        dialog.next()
    assert dialog.button(QWizard.WizardButton.FinishButton).isEnabled()
    assert dialog.encoder is not None and dialog.encoder.embed_dim == tiny.embed_dim
    assert not (runner.library.paths.models / "tiny-offline.safetensors").exists()


class SlowDownload:
    """An encoder whose download reports a quarter done, then waits until it is cancelled."""

    embed_dim = 32
    device = "cpu"

    def __init__(self) -> None:
        self.outcome: list[BaseException] = []
        self._pause = threading.Event()  # never set: waiting on it is a short pause between polls

    def load(self, progress: ProgressCallback, cancel: CancelToken | None) -> None:
        assert cancel is not None
        progress(Progress("download", 2**20, 4 * 2**20, message="tiny.safetensors"))
        try:
            while not cancel.cancelled:
                self._pause.wait(0.01)  # the worker polls its token between chunks, as the real download does
            cancel.raise_if_cancelled()
        except Cancelled as exc:
            self.outcome.append(exc)
            raise


def test_cancel_stops_a_download_in_progress(
    qtbot: QtBot, runner: TaskRunner, offline: ModelSpec, tmp_path: Path
) -> None:
    encoder = SlowDownload()
    paths = runner.library.paths

    def make_encoder(spec: ModelSpec) -> LibraryEncoder:
        return encoder  # type: ignore[return-value]

    dialog = WelcomeDialog([offline], offline, "cpu", paths, runner, make_encoder, choose_folder=Chooser(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.folders_page.add_button, Qt.MouseButton.LeftButton)
    dialog.next()
    with qtbot.waitSignal(runner.progress, timeout=WAIT_MS):
        dialog.next()
    page = dialog.download_page
    assert page.bar.value() == 250 and page.bar.maximum() == 1000
    assert page.status.text().startswith("Downloading the model 1/4 MB")
    with qtbot.waitSignal(runner.busy_changed, timeout=WAIT_MS) as idle:
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert idle.args == [False] and len(encoder.outcome) == 1
    assert dialog.result() == QDialog.DialogCode.Rejected and not page.problem.isVisibleTo(dialog)


class NotWeights:
    """A pickled object that `torch.load(weights_only=True)` refuses to rebuild."""


def test_a_file_that_is_no_model_is_refused_in_plain_words(offline: ModelSpec, home: Path, tmp_path: Path) -> None:
    """Regression: any file but the exact weights was answered with PyTorch's raw text; now one sentence
    says the file does not fit, and what was wrong with it goes to the details."""
    import torch

    from photosift.app.gui.controllers.model_files import model_from_file
    from photosift.core.errors import ModelError

    source = tmp_path / "notes.pth"
    torch.save({"what": NotWeights()}, source)
    paths = Paths(home)
    with pytest.raises(ModelError) as refused:
        model_from_file(source, offline, ModelRegistry(paths), paths)
    assert str(refused.value) == (
        "notes.pth does not fit “Tiny offline”: choose a model spec (.json), or weights made for the model "
        "chosen on the previous page."
    )
    assert "besides weights" in refused.value.details  # what the file was, for those who ask
    assert not (paths.models / "tiny-offline.safetensors").exists()
