"""Start-up: the commands that need no model import no torch, open_clip or Qt (and the ones that need no
index no FAISS), so they answer at once; benchmarks/bench_startup.py times them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY_SPEC, FakeEncoder, make_photo, with_tiny_export
from pytestqt.qtbot import QtBot

from photosift.core.catalog import Catalog
from photosift.core.catalog.database import alembic_config
from photosift.core.catalog.readonly import head_revision
from photosift.core.errors import ModelError
from photosift.core.settings import Paths, Settings

PROBE = """
import json, sys
from photosift.app.cli import run
heavy = json.loads(sys.argv[2])
found = {}
for argv in json.loads(sys.argv[1]):
    try:
        code = run(argv)
    except SystemExit as exc:  # --help and usage errors end in argparse's exit
        code = exc.code
    found[" ".join(argv)] = [code, [m for m in heavy if m in sys.modules]]
print(json.dumps(found), file=sys.__stdout__)
"""


MODEL_STACK = ["torch", "open_clip", "faiss", "PySide6", "rapidocr_onnxruntime", "cv2"]


def heavy_imports(home: Path, commands: list[list[str]], heavy: list[str] = MODEL_STACK) -> dict[str, list[object]]:
    """For each command run in turn in one fresh process: its exit code and the heavy modules loaded by then."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(commands), json.dumps(heavy)],
        capture_output=True,
        text=True,
        env=os.environ | {"PHOTOSIFT_HOME": str(home)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, list[object]] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_importing_the_cli_and_asking_for_help_imports_no_torch(tmp_path: Path) -> None:
    found = heavy_imports(tmp_path / "home", [["--help"]])
    assert found["--help"] == [0, []]


def test_listings_status_and_usage_errors_import_no_model_stack(tmp_path: Path) -> None:
    commands = [["models", "list"], ["serch", "x"], ["search", "x", "--limit", "0"], ["status"], ["tag", "list"]]
    found = heavy_imports(tmp_path / "home", [*commands, ["albums", "list"]])
    assert found["models list"] == [0, []]
    assert found["serch x"] == [2, []] and found["search x --limit 0"] == [2, []]
    # status and the listings open the library (SQLite) but never its model, nor Qt, nor the OCR engine.
    assert found["albums list"][0] == 0
    not_loaded = {"torch", "open_clip", "PySide6", "rapidocr_onnxruntime", "cv2"}
    assert not not_loaded & set(found["albums list"][1])  # type: ignore[arg-type]


def test_status_and_the_listings_of_a_library_import_neither_sqlalchemy_nor_numpy(tmp_path: Path) -> None:
    """On a library already opened once (its catalog at the newest revision, the model registered), status
    and the tag and album listings read the catalog with the standard library's sqlite3: importing SQLAlchemy
    and numpy alone cost 0.6 s of CPU, more than the 0.5 s these commands may take (issue 15)."""
    from photosift.core.library import Library
    from photosift.core.models.spec import load_spec
    from photosift.core.settings import save_settings

    paths = Paths(tmp_path / "home")
    paths.ensure()
    settings = Settings(model=str(TINY_SPEC))
    save_settings(paths, settings)
    Library(paths, settings, Catalog(paths.database), load_spec(TINY_SPEC), FakeEncoder()).close()
    commands = [["status"], ["tag", "list"], ["albums", "list"]]
    found = heavy_imports(paths.root, commands, [*MODEL_STACK, "sqlalchemy", "numpy", "PIL", "alembic"])
    assert found == {"status": [0, []], "tag list": [0, []], "albums list": [0, []]}


def test_indexing_and_searching_on_an_onnxruntime_export_import_neither_torch_nor_open_clip(
    tmp_path: Path, tiny_export: Path
) -> None:
    """With the model's verified export and its saved tokenizer, the CPU runtime needs neither torch nor
    open_clip: importing them was 2.7 s of a `photosift search` that took 3.8 s in all, against 0.6 s for
    rclip's (benchmarks/bench_text_search.py)."""
    paths = Paths(tmp_path / "home")
    paths.ensure()
    with_tiny_export(paths.models, tiny_export)
    folder = tmp_path / "photos"
    for i, colour in enumerate(("red", "green", "blue")):
        make_photo(folder / f"{i}.jpg", colour)
    not_loaded = ["torch", "open_clip", "transformers", "torchvision"]
    index = ["index", str(folder), "--model", str(TINY_SPEC), "--no-ocr"]
    assert heavy_imports(paths.root, [index], not_loaded) == {" ".join(index): [0, []]}
    assert heavy_imports(paths.root, [["search", "a red photo"]], not_loaded) == {"search a red photo": [0, []]}


def test_the_window_opens_before_the_model_stack_is_imported(tmp_path: Path) -> None:
    """The desktop app's modules import no torch, open_clip, onnxruntime or FAISS: the window shows first,
    and the model stack comes in the background (it took 30 s of a 31 s start on a loaded machine). Nor
    pyqtgraph (the fine-tuning wizard's charts) or Alembic, which opening a catalog already at the newest
    revision does not need: each was a tenth or more of the window's start. Nor tqdm, the command line's
    progress bars (the status bar only shares their labels)."""
    database = tmp_path / "catalog.sqlite3"
    Catalog(database).close()  # created and migrated: what a later start opens
    probe = (
        "import sys; import photosift.app.gui.app; from photosift.core.catalog import Catalog; "
        f"Catalog(__import__('pathlib').Path({str(database)!r})).close(); "
        "print([m for m in ('torch', 'open_clip', 'onnxruntime', 'faiss', 'pyqtgraph', 'alembic', 'tqdm') "
        "if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=os.environ | {"QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


FIRST_PAINT = """
import json, sys
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication
from photosift.app.gui.app import run_gui
from photosift.app.gui.main_window import MainWindow
from photosift.app.main import end_process
from photosift.core.settings import Paths, Settings

app = QApplication(sys.argv[:1])
seen = []

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and isinstance(watched, MainWindow) and not seen:
            seen.append([m for m in json.loads(sys.argv[2]) if m in sys.modules])
            watched.close()
        return False

watching = FirstPaint()
app.installEventFilter(watching)
run_gui(Paths(__import__("pathlib").Path(sys.argv[1])), Settings())
print(json.dumps(seen))
end_process(0)  # the library may still be opening in the background
"""


def test_the_window_is_on_screen_before_the_library_is_imported(tmp_path: Path) -> None:
    """The window's frame paints before the library's modules are imported: SQLAlchemy and numpy (the
    catalog), Pillow, the catalog and library themselves. They were about half of a 3-4 s start on a
    busy machine, spent before anything was on screen, whatever the library's size; now the library
    opens in the background after the first paint."""
    heavy = ["sqlalchemy", "numpy", "PIL", "photosift.core.catalog", "photosift.core.library", "photosift.app.tasks"]
    result = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT, str(tmp_path / "home"), json.dumps(heavy)],
        capture_output=True,
        text=True,
        env=os.environ | {"QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [[]]


def test_the_head_revision_read_without_alembic_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_library_that_cannot_open_closes_the_window_and_raises_its_error(qtbot: QtBot, tmp_path: Path) -> None:
    """The library opens after the frame is shown, on a thread: an error there (here, a selected model whose
    spec is gone) still ends the app with its sentence for the command line, and no window stays open."""
    from PySide6.QtWidgets import QApplication

    from photosift.app.gui.app import run_gui
    from photosift.app.gui.main_window import MainWindow

    settings = Settings().with_changes(model=str(tmp_path / "gone.json"))
    with pytest.raises(ModelError, match="The selected model cannot be used"):
        run_gui(Paths(tmp_path / "home"), settings)
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
