"""The task runner's default failure presenter: every background op that fails ends here unless its call
site shows the failure in place (a search's inline error, the welcome's download page).

Three answers, one per family of `core.errors`: a `UserError` is its sentence; an `EnvironmentFault`
(disk full, no permission, out of GPU memory) is its sentence plus what to do about it; anything else is
a bug, re-raised so the excepthook logs it and shows the crash dialog. Long technical text (`details`,
the OS error) sits behind "Show details", never in the first line.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from photosift.core.errors import Cancelled, EnvironmentFault, PhotosiftError, UserError

StatusLine = Callable[[str, int], object]  # QStatusBar.showMessage, or a fake
STATUS_MS = 15_000  # long enough to read a sentence after the box is closed

NO_SPACE = "Free some space on that disk, then try again."
NO_PERMISSION = "Check that Photosift may write there (permissions, a read-only or unplugged drive), then try again."
OUT_OF_MEMORY = (
    "Close other programs that use the graphics card, or choose a smaller batch size or the processor "
    "(CPU) in Settings, then try again."
)
CHECK_DISK = "Check that the disk is connected and has room, then try again."


def what_to_do(fault: EnvironmentFault) -> str:
    """The step that most likely gets past `fault`, read from the OS error or the message behind it."""
    cause = fault.__cause__
    code = cause.errno if isinstance(cause, OSError) else None
    if code == errno.ENOSPC or "No space left" in str(fault):
        return NO_SPACE
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return NO_PERMISSION
    if "out of memory" in str(fault):
        return OUT_OF_MEMORY
    return CHECK_DISK


def first_sentence(text: str) -> str:
    """The first sentence of `text` (up to the first ". ", "? " or "! "): what failed, without the how-to
    paragraph some messages go on with for the command line."""
    match = re.search(r"[.?!]+(?=\s)", text)
    sentence = text[: match.end()] if match else text
    return re.sub(r"([?!])\.$", r"\1", sentence)  # "are you offline?." reads "are you offline?"


def failure_details(exc: BaseException) -> str:
    """What "Show details" reveals: the error's own details, else the low-level error that caused it."""
    details = exc.details if isinstance(exc, PhotosiftError) else ""
    if not details and exc.__cause__ is not None:
        details = f"{type(exc.__cause__).__name__}: {exc.__cause__}"
    return details


def failure_sentence(exc: BaseException) -> str | None:
    """The text a person reads for `exc`, or None when it is a bug (or a cancel, which says nothing)."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, EnvironmentFault):
        return f"{exc} {what_to_do(exc)}"
    return None


def _no(_exc: BaseException) -> bool:
    return False


class FailurePresenter:
    """Shows failures over `parent` in a window-modal box (one per distinct message at a time), and
    repeats the sentence in the status line so it can still be read after the box is closed."""

    def __init__(
        self,
        parent: QWidget | None,
        status: StatusLine | None = None,
        shown_elsewhere: Callable[[BaseException], bool] = _no,
    ):
        """`shown_elsewhere(exc)` may show a failure in a place of its own (the window's "no model yet"
        bar) and return True, so that it is not boxed once per action."""
        self._parent, self._status, self._shown_elsewhere = parent, status, shown_elsewhere
        self.box: QMessageBox | None = None  # the box on show, for tests and to avoid stacking repeats

    def __call__(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled) or self._shown_elsewhere(exc):
            return
        sentence = failure_sentence(exc)
        if sentence is None:
            raise exc  # a bug: the excepthook logs the traceback and shows the crash dialog
        if self._status is not None:
            self._status(sentence, STATUS_MS)
        if self.box is not None and self.box.isVisible() and self.box.text() == sentence:
            return  # the same failure again (a retry, a burst of ops): one box is enough
        self.box = message_box(self._parent, sentence, failure_details(exc))
        self.box.open()


def message_box(parent: QWidget | None, sentence: str, details: str = "") -> QMessageBox:
    """A warning box with `sentence`; `details` go behind the box's own "Show Details…" button."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Photosift", sentence, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    return box


def shown_in_place(
    show: Callable[[str], object], present: Callable[[BaseException], None]
) -> Callable[[BaseException], None]:
    """An op's error handler for a view with a place of its own for messages (an inline label): the
    sentence of a user error or an environment fault goes to `show`; a bug or a cancel goes to `present`
    (the runner's default presenter)."""

    def failed(exc: BaseException) -> None:
        sentence = failure_sentence(exc)
        if sentence is None:
            present(exc)
        else:
            show(sentence)

    return failed
