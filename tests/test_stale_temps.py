"""What a quit or a kill mid-write leaves behind in Photosift's own folders (a half-written thumbnail, a
half-made onnxruntime export, a model's size each) is removed at the next start; a write in progress in a
live process is left alone, and photo folders are never touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import make_photo
from pytestqt.qtbot import QtBot
from test_library import open_library

from photosift.app.gui.main_window import MainWindow
from photosift.app.tasks import TaskRunner
from photosift.core.models.onnx_cache import cache_key, cached_export
from photosift.core.models.spec import load_spec
from photosift.core.settings import Paths

WAIT_MS = 5000  # generous on a loaded 2-core machine; the wait ends as soon as the file is gone
TINY = Path(__file__).resolve().parent / "models" / "tiny.json"
# A child that writes a thumbnail and dies in the middle of the write, as a kill -9 would leave it.
KILLED_MID_WRITE = """
import os, sys
from pathlib import Path
from PIL import Image
from photosift.app.gui.widgets import thumbnails

def die_half_written(self, target, *args, **kwargs):
    Path(target).write_bytes(b"\\xff\\xd8 half a JPEG")
    os._exit(9)

Image.Image.save = die_half_written
thumbnails.make_thumbnail(Path(sys.argv[1]), Path(sys.argv[2]), 192)
"""


def dead_pid() -> int:
    """The pid of a process that has exited."""
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout)


def test_a_thumbnail_half_written_by_a_killed_app_goes_at_the_next_start(
    qtbot: QtBot, home: Path, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    photo = make_photo(photos / "red.jpg", "red")
    library = open_library(home)
    cache = home / "cache" / "thumbnails"
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(photo), str(cache / "1-192.jpg")])
    (partial,) = cache.iterdir()
    assert killed.returncode == 9 and partial.name.startswith(".1-192.jpg.")
    look_alike = photos / f".{photo.name}.{dead_pid()}-1.tmp"  # a file of the person's own, by chance alike
    look_alike.write_bytes(b"theirs")
    runner = TaskRunner(library)
    window = MainWindow(library, runner)  # its start prunes the thumbnail cache
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: not partial.exists(), timeout=WAIT_MS)
        assert look_alike.read_bytes() == b"theirs"
    finally:
        runner.shutdown()
        window.parts.thumbnails.wait()
        library.close()


def test_a_half_made_export_goes_when_the_model_looks_for_its_export(tmp_path: Path) -> None:
    tiny, paths = load_spec(TINY), Paths(tmp_path / "home")
    root = paths.models / "onnx"
    key = cache_key(tiny, None)
    killed = root / f".{key}.{dead_pid()}-ab12.tmp"  # atomic_folder's scratch folder, its writer gone
    running = root / f".{key}.{os.getppid()}-cd34.tmp"  # another process exporting right now
    for folder in (killed, running):
        folder.mkdir(parents=True)
        (folder / "image.onnx").write_bytes(b"half")
    assert cached_export(tiny, paths, None) is None
    assert not killed.exists() and (running / "image.onnx").exists()
