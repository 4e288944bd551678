"""Wizard page 4: the run itself, in the trainer's own process, with live charts, pause, resume and cancel.

The page starts `python -m photosift.training --config settings.yaml` (or `--resume RUN_DIR` once the trainer has
saved its config), follows its JSON lines, and replays the run's log when it is opened on a run from an
earlier session, so the charts show the whole run. Pause stops the process resumably; the wizard may
be closed meanwhile and the rest of the app stays usable throughout. When the process ends badly the
page explains it (problems.py), shows the log, and offers what may help: resume, a smaller batch, the
quick preset, or different settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)

from photosift.app.gui.finetune.charts import TrainingCharts
from photosift.app.gui.finetune.estimates import duration_text
from photosift.app.gui.finetune.presets import preset_config
from photosift.app.gui.finetune.problems import Action, Problem, explain
from photosift.app.gui.finetune.process import ProcessEnd, TrainerProcess
from photosift.app.gui.finetune.runs import LOG_FILE, SETTINGS_FILE, RunRecord, clear_progress, save_record
from photosift.app.gui.finetune.setup import save_settings
from photosift.app.gui.presenter import what_to_do
from photosift.app.gui.widgets.placement import clear_layout
from photosift.core.errors import EnvironmentFault
from photosift.core.settings import Paths
from photosift.training.config import TrainConfig

CurrentRun = Callable[[], tuple[RunRecord, TrainConfig]]
FALLBACK_BATCH = 32  # the trainer's automatic batch on a CPU; halved when the batch it chose is unknown
ACTION_TEXT: dict[Action, str] = {
    "resume": "&Resume",
    "smaller_batch": "Try a &smaller batch",
    "quick_preset": "Use the &quick preset",
    "change_settings": "&Change the settings",
}
STAGES = {"a": "Learning your classes", "b": "Re-aligning the text side"}


class TrainingPage(QWizardPage):
    finished_run = Signal(bool)  # the process ended: True when the model was trained and exported
    paused = Signal()
    start_over_requested = Signal()  # "change the settings": back to the earlier pages
    record_changed = Signal(object)  # the RunRecord with its new status, saved

    def __init__(self, paths: Paths, device_kind: str, current_run: CurrentRun):
        super().__init__()
        self._paths, self._device_kind, self._current_run = paths, device_kind, current_run
        self._process: TrainerProcess | None = None
        self._pausing = False
        self._batch: int | None = None
        self.record: RunRecord | None = None
        self.config: TrainConfig | None = None
        self.problem: Problem | None = None
        self.setTitle("Training")
        self.setSubTitle("The model trains in a separate process; Photosift stays usable meanwhile.")
        self.status = QLabel(wordWrap=True)
        self.status.setAccessibleName("Training status")
        self.progress = QProgressBar()
        self.charts = TrainingCharts()
        self.notes = QLabel(wordWrap=True)
        self.pause_button = QPushButton("&Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.log_button = QPushButton("Show the &log")
        self.log_button.setCheckable(True)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(2000)
        self.log.setAccessibleName("Training log")
        self.log.hide()
        self.log_button.toggled.connect(self.log.setVisible)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pause_button)
        buttons.addStretch()
        buttons.addWidget(self.log_button)
        self.problem_box = QFrame(frameShape=QFrame.Shape.StyledPanel)
        self.problem_title = QLabel()
        self.problem_text = QLabel(wordWrap=True)
        self.problem_text.setAccessibleName("What went wrong")
        self.problem_actions = QHBoxLayout()
        box = QVBoxLayout(self.problem_box)
        for label in (self.problem_title, self.problem_text):
            box.addWidget(label)
        box.addLayout(self.problem_actions)
        self.problem_box.hide()
        layout = QVBoxLayout(self)
        for widget in (self.status, self.progress):
            layout.addWidget(widget)
        layout.addWidget(self.charts, 1)
        layout.addWidget(self.notes)
        layout.addWidget(self.problem_box)
        layout.addLayout(buttons)
        layout.addWidget(self.log, 1)

    def initializePage(self) -> None:
        self.record, self.config = self._current_run()
        self._reset_view()
        self._replay()
        if self.record.status == "finished":
            self._show_finished()
        else:
            self.start()  # a new run, or resuming one that was paused, interrupted or failed

    def isComplete(self) -> bool:
        return self.record is not None and self.record.status == "finished"

    def running(self) -> bool:
        return self._process is not None and self._process.running()

    # Starting and stopping --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the trainer: resume where the run folder allows, else from the settings file."""
        record = self._record()
        resumable = record.file("config.json").exists()
        args = ["--resume", str(record.run_dir)] if resumable else ["--config", str(record.file(SETTINGS_FILE))]
        self._set_status("training")
        self.problem, self._pausing = None, False
        self.problem_box.hide()
        self.pause_button.setText("&Pause")
        self.pause_button.setEnabled(True)
        self.status.setText("Starting the trainer…" if not resumable else "Resuming…")
        self._process = TrainerProcess(self._paths, record.file(LOG_FILE), self)
        self._process.trainer_event.connect(self._event)
        self._process.line.connect(self.log.appendPlainText)
        self._process.ended.connect(self._ended)
        self._process.start(args)

    def toggle_pause(self) -> None:
        if self.running():
            self.pause()
        else:
            self.start()

    def pause(self) -> None:
        """Ask the trainer to save a checkpoint and stop; `paused` follows when it has."""
        if self._process is not None and self.running():
            self._pausing = True
            self.pause_button.setEnabled(False)
            self.pause_button.setText("Pausing…")
            self.status.setText("Pausing after the current step…")
            self._process.stop()

    def kill(self) -> None:
        """End the process now (the run is being discarded)."""
        if self._process is not None:
            self._process.ended.disconnect(self._ended)
            self._process.kill()
            self._process.wait(10_000)
            self._process = None

    # Following the trainer --------------------------------------------------------------------------

    def _event(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "step":
            self.charts.add_step(event)
            self.progress.setRange(0, int(event["total_steps"]))
            self.progress.setValue(int(event["step"]))
            eta = f" · {duration_text(event['eta_s'])} left in this stage" if event.get("eta_s") else ""
            stage = STAGES.get(str(event.get("stage")), "Training")
            epoch = f", epoch {event['epoch'] + 1}" if "epoch" in event else ""
            self.status.setText(f"{stage}{epoch}: step {event['step']} of {event['total_steps']}{eta}")
        elif kind == "eval":
            self.charts.add_eval(event)
        elif kind == "start":
            self.status.setText(
                f"Training on the {event['device']}: {event['train']:,} photos, {event['validation']:,} held out, "
                f"{event['classes']} classes."
            )
        elif kind == "progress" and event.get("stage") == "eval":
            self.status.setText("Measuring on the held-out photos…")
        elif kind == "batch_size":
            self._batch = int(event["batch_size"])
        elif kind in ("warning", "captions", "resumed"):
            self._note(event)

    def _note(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "warning":
            text = str(event["message"])
        elif kind == "captions":
            text = f"{event['coverage']:.0%} of the training photos got pseudo-captions."
        else:
            text = f"Resumed at step {event['step']}."
        self.notes.setText("\n".join(filter(None, [self.notes.text(), text])))

    def _replay(self) -> None:
        """Draw what an earlier session of this run already reported (its log holds every line)."""
        try:
            lines = self._record().file(LOG_FILE).read_text(encoding="utf-8").splitlines()
        except OSError:
            return
        for line in lines:
            self.log.appendPlainText(line)
            if line.startswith("{"):
                try:
                    self._event(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue

    def _ended(self, end: ProcessEnd) -> None:
        self._process = None
        if end.finished:
            self._set_status("finished")
            self._show_finished()
            self.finished_run.emit(True)
        elif end.stopped or (self._pausing and end.exit_code is None):  # paused before it could checkpoint
            self._set_status("stopped")
            self._show_paused()
            self.paused.emit()
        else:
            self._set_status("failed")
            self._show_problem(explain(end))
            self.finished_run.emit(False)

    # Showing where the run stands -------------------------------------------------------------------

    def _show_finished(self) -> None:
        self.pause_button.setEnabled(False)
        self.progress.setValue(self.progress.maximum())
        self.status.setText("Training finished. Next: see whether it helped.")
        self.completeChanged.emit()

    def _show_paused(self) -> None:
        self._pausing = False
        self.pause_button.setEnabled(True)
        self.pause_button.setText("&Resume")
        self.status.setText(
            "Paused. Resume now, or close the wizard: Tools ▸ Personalise the model… offers to resume later."
        )

    def _show_problem(self, problem: Problem) -> None:
        self.problem = problem
        self.pause_button.setEnabled(False)
        self.problem_title.setText(f"<b>{problem.title}</b>")
        self.problem_text.setText(problem.message)
        clear_layout(self.problem_actions)
        for action in problem.actions:
            button = QPushButton(ACTION_TEXT[action])
            button.setProperty("action", action)
            button.clicked.connect(lambda _=False, a=action: self.act(a))
            self.problem_actions.addWidget(button)
        self.problem_actions.addStretch()
        self.problem_box.show()
        self.log_button.setChecked(True)
        self.status.setText(problem.title)

    def act(self, action: Action) -> None:
        """Do what a problem's button offers."""
        if action == "resume":
            self.start()
        elif action == "smaller_batch":
            config = self._config()
            self._restart(config.replace(batch_size=max(1, (self._batch or config.batch_size or FALLBACK_BATCH) // 2)))
        elif action == "quick_preset":
            config = self._config()
            quick = preset_config(
                "quick",
                data=config.data,
                model=config.model,
                method=config.method,
                name=config.name,
                output=config.output,
                device_kind=self._device_kind,
            )
            self._restart(quick.replace(caption_file=config.caption_file, extra_terms=config.extra_terms))
        else:
            self._set_status("prepared")
            clear_progress(self._record())
            self.start_over_requested.emit()

    def _restart(self, config: TrainConfig) -> None:
        """Start again from scratch with other settings (a checkpoint fixes the batch size of a resume)."""
        record = self._record()
        clear_progress(record)
        save_settings(record, config)
        self.config = config
        self.charts.clear()
        self.notes.setText("")
        self.start()

    def _reset_view(self) -> None:
        self.charts.clear()
        self.notes.setText("")
        self.log.clear()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.problem_box.hide()

    def _set_status(self, status: Any) -> None:
        self.record = self._record().with_status(status)
        try:
            save_record(self.record)
        except EnvironmentFault as exc:  # the run goes on; only an offer to resume after a restart is lost
            advice = "Training goes on; only resuming it after Photosift is closed needs that file."
            self.notes.setText(f"{self.notes.text()}\n{exc} {what_to_do(exc)} {advice}".strip())
        self.record_changed.emit(self.record)
        self.completeChanged.emit()

    def _record(self) -> RunRecord:
        if self.record is None:
            raise RuntimeError("the training page was used before a run was set up")
        return self.record

    def _config(self) -> TrainConfig:
        if self.config is None:
            raise RuntimeError("the training page was used before a run was set up")
        return self.config
