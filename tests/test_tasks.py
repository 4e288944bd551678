"""The task runner's default failure presenter: a user error is its sentence, an environment fault its
sentence plus what to do, details go behind "Show details", a bug goes to the excepthook."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from test_library import open_library

from photosift.app.gui.presenter import NO_PERMISSION, NO_SPACE, FailurePresenter, shown_in_place
from photosift.app.tasks import TaskRunner
from photosift.core.errors import Cancelled, EnvironmentFault, ModelDownloadError, UserError
from photosift.core.library import Library


@pytest.fixture
def parent(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def library(home: Path) -> Iterator[Library]:
    library = open_library(home)
    yield library
    library.close()


def fault(code: int) -> EnvironmentFault:
    try:
        try:
            raise OSError(code, "the OS says no")
        except OSError as exc:
            raise EnvironmentFault("Could not save the search index to /x/index.faiss.") from exc
    except EnvironmentFault as exc:
        return exc


def test_a_user_error_is_its_sentence_with_details_behind_a_button(parent: QWidget) -> None:
    status: list[str] = []
    present = FailurePresenter(parent, lambda text, _ms: status.append(text))
    present(ModelDownloadError("The model could not be downloaded: this computer is offline.", details="URL 1\nURL 2"))
    assert present.box is not None and present.box.isVisible()
    assert present.box.text() == "The model could not be downloaded: this computer is offline."
    assert present.box.detailedText() == "URL 1\nURL 2" and status == [present.box.text()]


@pytest.mark.parametrize(("code", "advice"), [(errno.ENOSPC, NO_SPACE), (errno.EACCES, NO_PERMISSION)])
def test_an_environment_fault_says_what_to_do(parent: QWidget, code: int, advice: str) -> None:
    present = FailurePresenter(parent)
    present(fault(code))
    assert present.box is not None
    assert present.box.text() == f"Could not save the search index to /x/index.faiss. {advice}"
    assert "the OS says no" in present.box.detailedText()


def test_a_repeated_failure_shows_one_box_and_a_cancel_none(parent: QWidget) -> None:
    present = FailurePresenter(parent)
    present(UserError("No model is ready yet."))
    first = present.box
    present(UserError("No model is ready yet."))
    present(Cancelled())
    assert present.box is first


def test_a_bug_goes_to_the_excepthook(parent: QWidget) -> None:
    present = FailurePresenter(parent)
    with pytest.raises(KeyError):
        present(KeyError("a bug"))
    assert present.box is None


def test_in_place_handlers_show_sentences_and_leave_bugs_to_the_presenter() -> None:
    shown: list[str] = []
    presented: list[BaseException] = []
    failed = shown_in_place(shown.append, presented.append)
    failed(fault(errno.ENOSPC))
    bug = ValueError("a bug")
    failed(bug)
    assert shown == [f"Could not save the search index to /x/index.faiss. {NO_SPACE}"] and presented == [bug]


def test_an_op_without_its_own_handler_reaches_the_presenter_on_the_gui_thread(qtbot: QtBot, library: Library) -> None:
    presented: list[tuple[BaseException, bool]] = []
    runner = TaskRunner(
        library, present=lambda exc: presented.append((exc, threading.current_thread() is threading.main_thread()))
    )
    error = fault(errno.ENOSPC)

    def fail(_lib: Library) -> None:
        raise error

    runner.run_op(fail, lambda _: None, writes=True)
    qtbot.waitUntil(lambda: bool(presented), timeout=5000)
    runner.shutdown()
    assert presented == [(error, True)] and not runner.busy
