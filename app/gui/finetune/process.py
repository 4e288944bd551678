"""The trainer's own process (`python -m photosift.training ...`) as Qt signals.

Training runs in a separate process, not on the task runner: it holds a second model in memory for
minutes or hours, and a crash there (out of memory, a driver fault) must not take the app down with it.
The process reports JSON lines on stdout (training/report.py); this wraps a QProcess, turns each line
into a `trainer_event` signal, keeps everything it writes (stdout and stderr) in a log file in the run folder,
and says how it ended in terms the wizard can act on.

Pausing sends SIGTERM: the trainer saves a checkpoint at its next step and exits with 75, and
`python -m photosift.training --resume RUN_DIR` continues from there. (On Windows QProcess.terminate cannot
signal a console process; pausing there would need the trainer to watch a stop file.)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from PySide6.QtCore import QCoreApplication, QObject, QProcess, QProcessEnvironment, Signal

from photosift.core.protocol import EVENT_ERROR, EXIT_OK, EXIT_STOPPED, TRAINER_ARGS
from photosift.core.settings import HOME_ENV, Paths

# How long quitting the app waits for a checkpoint before killing the trainer: a step of a large model on
# a CPU takes seconds; past this the run resumes from its previous checkpoint instead.
QUIT_WAIT_MS = 20_000
STDERR_TAIL = 40  # lines of stderr kept for the message when the process dies without an "error" line


@dataclass(frozen=True)
class ProcessEnd:
    """How a trainer process ended.

    Attributes:
        exit_code: the process's exit code; None when it did not start or crashed (killed by a signal).
        error: the trainer's last "error" line (kind: user, environment or bug; message; traceback).
        stderr_tail: the last lines it wrote on stderr (a crash's only explanation).
        log: the log file holding everything it wrote.
        start_failed: the process could not be started at all (message in `stderr_tail`).
    """

    exit_code: int | None
    error: dict[str, Any] | None
    stderr_tail: tuple[str, ...]
    log: Path
    start_failed: bool = False

    @property
    def finished(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def stopped(self) -> bool:
        return self.exit_code == EXIT_STOPPED


def trainer_environment(paths: Paths) -> QProcessEnvironment:
    """The app's environment plus the same Photosift home. The trainer is started as
    `python -m photosift.training`, which only the installed package answers: a `training/` folder in
    the current directory cannot stand in for it."""
    env = QProcessEnvironment.systemEnvironment()
    env.insert(HOME_ENV, str(paths.root))
    env.insert("PYTHONUNBUFFERED", "1")
    return env


class TrainerProcess(QObject):
    """One run of `python -m photosift.training ARGS`. Create a new one for each start."""

    # A JSON line from the trainer ("event" names the kind; see training/report.py). Not called `event`:
    # that name is QObject's event handler, which a signal would shadow.
    trainer_event = Signal(dict)
    line = Signal(str)  # every line it writes, JSON or not, as it goes into the log
    ended = Signal(object)  # a ProcessEnd

    def __init__(self, paths: Paths, log: Path, parent: QObject | None = None, python: str = sys.executable):
        super().__init__(parent)
        self.log_path = log
        self._python = python
        self._process = QProcess(self)
        self._process.setProcessEnvironment(trainer_environment(paths))
        self._process.readyReadStandardOutput.connect(lambda: self._read(stdout=True))
        self._process.readyReadStandardError.connect(lambda: self._read(stdout=False))
        self._process.finished.connect(self._finished)
        self._process.errorOccurred.connect(self._error)
        self._partial = {True: b"", False: b""}
        self._error_event: dict[str, Any] | None = None
        self._stderr: list[str] = []
        self._log: IO[str] | None = None
        self._ended = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._quit)

    def start(self, args: list[str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", encoding="utf-8")
        self._write(f"$ python -m photosift.training {' '.join(args)}")
        self._process.start(self._python, [*TRAINER_ARGS, *args])

    def running(self) -> bool:
        return self._process.state() != QProcess.ProcessState.NotRunning

    def stop(self) -> None:
        """Ask the trainer to checkpoint and exit (it ends with EXIT_STOPPED, resumable)."""
        if self.running():
            self._process.terminate()

    def kill(self) -> None:
        """End it now (a plan nobody waits for; a cancelled run): no checkpoint is written."""
        if self.running():
            self._process.kill()

    def wait(self, ms: int) -> bool:
        """Block until it has ended (tests and shutdown only); True if it did."""
        return not self.running() or self._process.waitForFinished(ms)

    def _quit(self) -> None:
        """The app is quitting: stop the trainer resumably if it is quick about it, else kill it, so no
        orphan keeps the GPU busy."""
        self.stop()
        if not self.wait(QUIT_WAIT_MS):
            self.kill()
            self.wait(QUIT_WAIT_MS)

    def _read(self, stdout: bool) -> None:
        channel = QProcess.ProcessChannel.StandardOutput if stdout else QProcess.ProcessChannel.StandardError
        self._process.setReadChannel(channel)
        data = self._partial[stdout] + bytes(self._process.readAll().data())
        *lines, self._partial[stdout] = data.split(b"\n")
        for raw in lines:
            self._take(raw.decode("utf-8", errors="replace").rstrip("\r"), stdout)

    def _write(self, text: str) -> None:
        if self._log is not None:
            self._log.write(text + "\n")
            self._log.flush()
        self.line.emit(text)

    def _take(self, text: str, stdout: bool) -> None:
        self._write(text)
        if not stdout:
            self._stderr = [*self._stderr[-STDERR_TAIL + 1 :], text]
            return
        try:
            record = json.loads(text)
        except ValueError:
            return
        if isinstance(record, dict) and "event" in record:
            if record["event"] == EVENT_ERROR:
                self._error_event = record
            self.trainer_event.emit(record)

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        for stdout in (True, False):  # a last line without a newline
            if self._partial[stdout]:
                rest, self._partial[stdout] = self._partial[stdout], b""
                self._take(rest.decode("utf-8", errors="replace"), stdout)
        crashed = status == QProcess.ExitStatus.CrashExit
        self._end(ProcessEnd(None if crashed else code, self._error_event, tuple(self._stderr), self.log_path))

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            message = f"The training process could not be started ({self._process.errorString()})."
            self._end(ProcessEnd(None, None, (message,), self.log_path, start_failed=True))

    def _end(self, end: ProcessEnd) -> None:
        if self._ended:
            return
        self._ended = True
        if self._log is not None:
            self._log.close()
            self._log = None
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.disconnect(self._quit)
        self.ended.emit(end)
