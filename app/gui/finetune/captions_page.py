"""Wizard page 3: the pseudo-captions MCIP trains towards, and how many photos they cover, before training.

Coverage needs the base model to embed the photos and the captions, so the page runs the trainer's own
`--plan` (same data, split and mining as the run) in its process: the GUI never loads a second copy of
the model. The plan also times this machine embedding photos with this model, and the page turns that
into a measured time estimate. Changing a source runs the plan again; Next ("Start training") waits for
a plan of the current choices.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from photosift.app.gui.finetune.estimates import describe, estimate
from photosift.app.gui.finetune.problems import explain
from photosift.app.gui.finetune.process import ProcessEnd, TrainerProcess
from photosift.app.gui.finetune.runs import PLAN_LOG_FILE, SETTINGS_FILE, HeldOut, RunRecord
from photosift.app.gui.finetune.setup import CaptionChoice
from photosift.app.gui.presenter import shown_in_place
from photosift.app.gui.start_folders import documents_folder
from photosift.app.tasks import reraise
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths
from photosift.training.config import TrainConfig

Prepare = Callable[[CaptionChoice, Callable[[RunRecord, TrainConfig], None], Callable[[BaseException], None]], None]
FileChooser = Callable[[QWidget], Path | None]


def ask_caption_file(parent: QWidget) -> Path | None:
    text_files = "Text files (*.txt);;All files (*)"
    name, _ = QFileDialog.getOpenFileName(parent, "Choose a caption file", documents_folder(), text_files)
    return Path(name) if name else None


class CaptionsPage(QWizardPage):
    plan_finished = Signal(bool)  # True when coverage is shown for the current choices

    def __init__(
        self,
        prepare: Prepare,
        base: ModelSpec,
        paths: Paths,
        device_kind: str,
        bundled: int,
        words: Callable[[Callable[[list[str]], None]], None],
        choose_file: FileChooser = ask_caption_file,
    ):
        super().__init__()
        self._prepare, self._base, self._paths, self._device_kind = prepare, base, paths, device_kind
        self._choose_file = choose_file
        self._process: TrainerProcess | None = None
        self._done = False
        self._generation = 0  # of run_plan calls: a preparation that finishes after a newer one is dropped
        self._facts: dict[str, Any] = {}
        self.record: RunRecord | None = None
        self.config: TrainConfig | None = None
        self.held_out: tuple[HeldOut, ...] = ()
        self.setTitle("Captions")
        self.setSubTitle(
            "MCIP keeps text search working by pulling each photo towards captions that describe it. Each photo "
            "gets the captions its current embedding matches best, from your class names and the sources below."
        )
        self.setButtonText(QWizard.WizardButton.NextButton, "&Start training")
        self.bundled = QCheckBox(f"Photosift's caption bank ({bundled:,} everyday descriptions)")
        self.bundled.setChecked(True)
        self.words = QCheckBox("Your tags and album names")
        self.words.setChecked(True)
        words(lambda found: self.words.setText(f"Your tags and album names ({len(found):,})"))
        self.file_check = QCheckBox("A caption file, one caption a line:")
        self.file_button = QPushButton("&Choose…")
        self.file_button.clicked.connect(self._pick_file)
        self.caption_file: Path | None = None
        for box in (self.bundled, self.words, self.file_check):
            box.toggled.connect(lambda _: self.run_plan())
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.status = QLabel(wordWrap=True)
        self.status.setAccessibleName("Caption coverage")
        self.classes = QTreeWidget()
        self.classes.setHeaderLabels(["Class", "Photos with captions", "Held out"])
        self.classes.setRootIsDecorated(False)
        self.examples = QLabel(wordWrap=True)
        self.estimate = QLabel(wordWrap=True)
        self.estimate.setAccessibleName("Time estimate")
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_check)
        file_row.addWidget(self.file_button)
        file_row.addStretch()
        layout = QVBoxLayout(self)
        for check in (self.bundled, self.words):
            layout.addWidget(check)
        layout.addLayout(file_row)
        for widget in (self.progress, self.status, self.classes, self.examples, self.estimate):
            layout.addWidget(widget)
        self.classes.setMaximumHeight(240)
        layout.addStretch()

    def initializePage(self) -> None:
        self.run_plan()

    def cleanupPage(self) -> None:
        self.stop_plan()

    def isComplete(self) -> bool:
        return self._done

    def choice(self) -> CaptionChoice:
        use_file = self.file_check.isChecked() and self.caption_file is not None
        return CaptionChoice(self.bundled.isChecked(), self.words.isChecked(), self.caption_file if use_file else None)

    def set_caption_file(self, path: Path) -> None:
        self.caption_file = path
        self.file_check.setText(f"A caption file: {path.name}")
        if self.file_check.isChecked():
            self.run_plan()
        else:
            self.file_check.setChecked(True)

    def _pick_file(self) -> None:
        path = self._choose_file(self)
        if path is not None:
            self.set_caption_file(path)

    # The plan ---------------------------------------------------------------------------------------

    def run_plan(self) -> None:
        """Write the run folder for the current choices and start the trainer's plan on it."""
        self.stop_plan()
        self._done, self._facts = False, {}
        self.completeChanged.emit()
        self.classes.clear()
        self.examples.setText("")
        self.estimate.setText("")
        self.progress.show()
        self.status.setText("Preparing the photos…")
        generation = self._generation

        def start(record: RunRecord, config: TrainConfig) -> None:
            if generation == self._generation:
                self._start(record, config)

        self._prepare(self.choice(), start, self._failed_before_start)

    def stop_plan(self) -> None:
        self._generation += 1
        if self._process is not None:
            self._process.ended.disconnect(self._ended)
            self._process.kill()
            self._process.wait(5000)
            self._process.deleteLater()
            self._process = None

    def _start(self, record: RunRecord, config: TrainConfig) -> None:
        self.record, self.config = record, config
        self.status.setText("Finding captions for your photos with the current model…")
        self._process = TrainerProcess(self._paths, record.file(PLAN_LOG_FILE), self)
        self._process.trainer_event.connect(self._event)
        self._process.ended.connect(self._ended)
        self._process.start(["--config", str(record.file(SETTINGS_FILE)), "--plan"])

    def _failed_before_start(self, exc: BaseException) -> None:
        self.progress.hide()
        self.plan_finished.emit(False)
        shown_in_place(lambda s: self.status.setText(f"<span style='color:#d32f2f'>{s}</span>"), reraise)(
            exc
        )  # a bug: the crash dialog and the log

    def _event(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "plan":
            self.held_out = tuple(HeldOut(h["path"], h["label"]) for h in event["held_out"])
            self._facts.update(train=event["train"], validation=event["validation"], classes=event["classes"])
        elif kind == "progress" and event.get("total"):
            self.status.setText(f"Embedding photos with the current model… {event['done']} of {event['total']}")
        elif kind in ("speed", "captions"):
            self._facts[kind] = event
        elif kind == "caption_coverage":
            self._show_coverage(event)

    def _show_coverage(self, event: dict[str, Any]) -> None:
        held = {c["name"]: c["validation"] for c in self._facts.get("classes", [])}
        for row in event["classes"]:
            self.classes.addTopLevelItem(
                QTreeWidgetItem([row["name"], f"{row['covered']} of {row['total']}", str(held.get(row["name"], ""))])
            )
        for column in range(3):
            self.classes.resizeColumnToContents(column)
        samples = [
            f"<b>{e['label']}</b> ({Path(e['path']).name}): {', '.join(f'“{c}”' for c in e['captions']) or '(none)'}"
            for e in event["examples"]
        ]
        self.examples.setText("For example:<br>" + "<br>".join(samples) if samples else "")

    def _ended(self, end: ProcessEnd) -> None:
        self.progress.hide()
        self._process = None
        captions, speed = self._facts.get("captions"), self._facts.get("speed")
        if not end.finished or captions is None or self.config is None:
            problem = explain(end) if not end.finished else None
            said = f"{problem.title}: {problem.message}" if problem else "The plan reported no caption coverage."
            self.status.setText(f"<span style='color:#d32f2f'>{said}</span>".replace("\n", "<br>"))
            self.plan_finished.emit(False)
            return
        train = self._facts["train"]
        self.status.setText(
            f"<b>{round(captions['coverage'] * train):,} of {train:,} training photos "
            f"({captions['coverage']:.0%}) got pseudo-captions</b>, {captions['mean_per_image']:.1f} a photo on "
            f"average, from {captions['bank']:,} captions. Photos without any still learn their class."
        )
        rate = speed["images_per_second"] if speed else None
        found = estimate(
            self.config,
            self._base,
            self._paths,
            self._device_kind,
            (train, self._facts["validation"]),
            captions["bank"],
            rate,
        )
        measured = f"This computer embeds {rate:.1f} photos a second with {self._base.title}. " if rate else ""
        self.estimate.setText(f"{measured}Training: {describe(found)}.")
        self._done = True
        self.completeChanged.emit()
        self.plan_finished.emit(True)
