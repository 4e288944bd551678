"""Time from launch to a shown main window, and to quit, over a synthetic library of N photos.

    .venv/bin/python benchmarks/bench_window.py --photos 10000 100000 [--runs 3]

Each size gets its own library (`synthetic_library.build`: catalog rows straight into SQLite, random
unit embeddings, no photo files and no model work), cached under bench-out/window-N. Each measurement runs
in a fresh process, so imports, opening the catalog and the vector index, the side panel's counts and
the first paint are all counted as a person launching the app would wait for them. The child prints
seconds since its interpreter started: the imports, the library open, the window built, the window
painted (the event loop ran once after show), and how long closing took (the window closed, its
background work waited for, the library closed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO

CHILD = r"""
import os, sys, time, json
t0 = time.perf_counter()
from pathlib import Path
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from photosift.app.gui.app import shut_down
from photosift.app.gui.main_window import MainWindow
from photosift.app.main import build_library, model_provider
from photosift.app.tasks import TaskRunner
from photosift.core.settings import Paths, Settings
marks = {{"imports": time.perf_counter() - t0}}
app = QApplication(sys.argv[:1])
paths = Paths(Path({home!r}))
models = model_provider(paths)
library = build_library(paths, Settings(device="cpu"), {spec!r})  # as run_gui does: the model loads on first use
marks["library open"] = time.perf_counter() - t0
window = MainWindow(library, TaskRunner(library), models=models)
window.resize(1200, 800)
marks["window built"] = time.perf_counter() - t0
window.show()

def painted():
    marks["window shown"] = time.perf_counter() - t0
    QTimer.singleShot(2000, close)  # let the start-up reads run, as they would while a person looks

def close():
    started = time.perf_counter()
    window.close()
    shut_down(window)
    marks["quit"] = time.perf_counter() - started
    app.quit()

QTimer.singleShot(0, painted)
app.exec()
print(json.dumps(marks))
"""


def measure(home: Path) -> dict[str, float]:
    from synthetic_library import SPEC_FILE

    code = CHILD.format(home=str(home), spec=str(SPEC_FILE))
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    if out.returncode:
        raise SystemExit(f"the window process failed:\n{out.stderr}")
    marks: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    marks["process"] = time.perf_counter() - started
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from synthetic_library import build

    for n in args.photos:
        home = REPO / "bench-out" / f"window-{n}"
        if not (home / "catalog.sqlite3").exists():
            print(f"building a synthetic library of {n:,} photos in {home} ...", flush=True)
            build(home, n, progress=False)
        for run in range(args.runs):
            marks = measure(home)
            shown = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in marks.items())
            print(f"{n:>7,} photos, run {run + 1}: {shown}", flush=True)


if __name__ == "__main__":
    main()
