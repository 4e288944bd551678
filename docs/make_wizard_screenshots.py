"""Render the fine-tuning wizard's pages into docs/screenshots/wizard-*.png for the README.

    python docs/make_wizard_screenshots.py [--model tests/models/tiny.json] [--photos ../shared/data/tiny-imagenet-val]

A real main window over a temporary library: a few classes of the shared tiny-imagenet-val photos, copied
into a temporary folder per class under their readable names (one class kept small, so the data page has a
warning to show), plus the real trainer in its own process. Every page is photographed as a user sees it:
the classes, the method and its estimates, the advanced settings, the caption coverage from the trainer's
plan, training with its live charts, a failed run with its log, the result, and the Models dialog after
switching. The tiny test model has random weights, so the scores mean nothing; the flow and widgets are the
real ones. Rendering is offscreen.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QLineEdit, QSpinBox  # noqa: E402
from screens import OUT, close_window, save, settle, wait_until  # noqa: E402

from photosift.app.gui.dialogs.models import ModelsDialog  # noqa: E402
from photosift.app.gui.finetune.runs import new_record  # noqa: E402
from photosift.app.gui.finetune.setup import CaptionChoice, prepare_run  # noqa: E402
from photosift.app.gui.finetune.wizard import FineTuneWizard, open_finetune  # noqa: E402
from photosift.app.gui.main_window import MainWindow  # noqa: E402
from photosift.app.main import model_provider  # noqa: E402
from photosift.app.tasks import TaskRunner  # noqa: E402
from photosift.core.catalog import Catalog  # noqa: E402
from photosift.core.library import Library  # noqa: E402
from photosift.core.models.spec import dump_spec, load_spec  # noqa: E402
from photosift.core.settings import Paths, Settings  # noqa: E402
from photosift.core.training_sets import labelled_set  # noqa: E402
from photosift.training.config import TrainConfig  # noqa: E402

CLASSES = 6
PER_CLASS = 30
SMALL_CLASS = 3  # photos in the last class: below the advised minimum, so the data page warns
SIZE = (980, 780)
# The tiny model trains in seconds with these; the epochs give the charts a few points to draw.
TINY_SETTINGS = {"workers": "0", "batch_size": 16, "epochs": 6, "early_stopping_patience": 6, "lr_tower": "1e-3"}


def copy_classes(source: Path, target: Path) -> Path:
    """A folder per class named by its readable name (classes.tsv), `PER_CLASS` photos each."""
    with (source / "classes.tsv").open(encoding="utf-8", newline="") as file:
        names = [(row["wnid"], row["name"]) for row in csv.DictReader(file, delimiter="\t")][:CLASSES]
    for number, (wnid, name) in enumerate(names):
        keep = SMALL_CLASS if number == CLASSES - 1 else PER_CLASS
        (target / name).mkdir(parents=True)
        for photo in sorted((source / wnid).glob("*.JPEG"))[:keep]:
            shutil.copy(photo, target / name / photo.name)
    return target


def build_window(home: Path, model: Path, photos: Path) -> MainWindow:
    paths = Paths(home)
    paths.ensure()
    # Installed as the user's own model, so the Models dialog can offer to switch back to it.
    dump_spec(load_spec(model), paths.user_specs / model.name)
    spec = load_spec(paths.user_specs / model.name)
    models = model_provider(paths)
    library = Library(paths, Settings(), Catalog(paths.database), spec, models.make_encoder(spec, "auto"))
    library.add_folder(photos)
    library.scan()
    library.index()
    window = MainWindow(library, TaskRunner(library), models=models)
    window.resize(1280, 820)
    window.show()
    return window


def photograph(window: MainWindow) -> None:
    wizard = open_finetune(window, window.parts.state, window.parts.thumbnails)
    wizard.resize(*SIZE)
    page = wizard.data_page
    wait_until(lambda: page.classes.topLevelItemCount() == CLASSES and page.strip.count() > 0)
    wait_until(lambda: all(window.parts.thumbnails.is_ready(i) for i in page._first))
    settle(1200)
    save(wizard, "wizard-1-data")

    wizard.next()
    settle()
    save(wizard, "wizard-2-method")
    wizard.method_page.advanced.setChecked(True)
    wizard.next()
    for name, value in TINY_SETTINGS.items():
        editor = wizard.advanced_page.editors[name]
        if isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QLineEdit):
            editor.setText(str(value))
    settle()
    save(wizard, "wizard-2b-advanced")

    wizard.next()
    wait_until(wizard.captions_page.isComplete)
    settle()
    save(wizard, "wizard-3-captions")

    wizard.next()
    wait_until(lambda: wizard.training_page.charts.curve_lengths().get("loss", 0) >= 3)
    settle(300)
    save(wizard, "wizard-4-training")
    wait_until(lambda: wizard.currentId() == 5 and wizard.result_page.grid.count() > 3)
    settle(800)
    save(wizard, "wizard-5-result")
    wizard.activate()
    wait_until(lambda: window.library.spec.name == wizard.method_page.name.text())

    dialog = ModelsDialog(window, window.parts.state)
    dialog.show()
    wait_until(lambda: dialog.table.topLevelItemCount() == 2)
    dialog.select(wizard.base.name)  # the model to switch back to
    settle()
    save(dialog, "wizard-6-models")
    dialog.close()
    photograph_failure(window)


def photograph_failure(window: MainWindow) -> None:
    """A run whose settings the trainer refuses: the problem, what to do, and the log."""
    library = window.library
    record = new_record(library.paths, "refused-run", library.spec.name)
    config = TrainConfig(model=str(library.spec.path), val_fraction=1.5, workers=0)
    prepare_run(library, labelled_set(library, "folders"), config, record, CaptionChoice(False, False, None))
    wizard = FineTuneWizard(window, window.parts.state, window.parts.thumbnails)
    wizard.resize(*SIZE)
    wizard.show()
    wizard.resume(record)
    wait_until(lambda: wizard.training_page.problem is not None)
    settle()
    save(wizard, "wizard-4-error")
    wizard.discard()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO / "tests" / "models" / "tiny.json")
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "data" / "tiny-imagenet-val")
    args = parser.parse_args()
    if not (args.photos / "classes.tsv").is_file():
        print(f"The photos folder {args.photos} (tiny-imagenet-val) is missing.", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as temp:
        photos = copy_classes(args.photos, Path(temp) / "photos")
        window = build_window(Path(temp) / "home", args.model, photos)
        try:
            photograph(window)
        finally:
            close_window(window)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
