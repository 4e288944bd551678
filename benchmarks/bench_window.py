"""Time from launch to a shown main window, and from a close request to the process's exit, over a
synthetic library of N photos.

    .venv/bin/python benchmarks/bench_window.py --photos 10000 100000 [--runs 3] [--close-after 2]

Each size gets its own library (`synthetic_library.build`: catalog rows straight into SQLite, random
unit embeddings, no photo files and no model work), cached under bench-out/window-N, with empty
stand-ins for the model's files so the app opens as over an installed model (no welcome; nothing reads
the weights before a search). Each measurement is a fresh process that runs `run_gui` and
`end_process` as `photosift` does, so interpreter start, imports, opening the catalog and the side
panel's counts, the first paint and quitting are all counted as a person launching and closing the app
would wait for them. The window is closed `--close-after` seconds after its counts show: at 2 s the
background torch import for the tokenizer warm-up is still running on a busy machine, which quitting used
to wait for. A cached library indexed under another version of the model's spec (its key changed) is
built again: the app would open it as not indexed.

Python's compiled bytecode is kept as an installed app keeps it (pip compiles an install, and an
editable one on its first import): this script unsets PYTHONDONTWRITEBYTECODE, which this project's
development machines set, and has Python keep the bytecode under bench-out/pycache (PYTHONPYCACHEPREFIX,
so nothing is written beside the sources), after one unmeasured launch that fills it.
`--compile-each-run` keeps the environment's setting instead: without bytecode every launch compiles
Photosift's own modules from source, about 0.3 s of CPU more.

Printed per run: seconds from launch to the window shown (its first paint) and the CPU seconds the
process had used by then (the host may be busy: wall time alone says little); to the counts shown (the
side panel's folders and the status line's photo count: the library open and answering) and the CPU by
then; to the first photos shown (the home view's first page of the timeline, newest first, in the grid's
model: a text search would need the model, which these libraries do not have) and the CPU by then; and
seconds from the close request to the process's exit. `bench-out/window-N` may be a link to a library
that `synthetic_library.py` built elsewhere (a million photos take minutes to build). The floor beside
them: `python -c pass` and `python -c "import PySide6.QtWidgets"`, wall and CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO

CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from pathlib import Path
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from photosift.app.gui.app import run_gui
from photosift.app.main import end_process
from photosift.app.gui.main_window import MainWindow
from photosift.core.settings import Paths, load_settings

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

app = QApplication(sys.argv[:1])
marks = {{}}

class FirstPaint(QObject):
    def eventFilter(self, watched, event):  # the main window's first paint: it is on screen
        if event.type() == QEvent.Type.Paint and isinstance(watched, MainWindow):
            app.removeEventFilter(self)
            marks["shown_at"], marks["cpu_at_shown"] = time.time(), cpu()
            watched.library_status_shown.connect(lambda _: ready(watched, "ready"))
            watched.results_shown.connect(lambda: ready(watched, "results"))
        return False

def ready(window, what):  # the side panel's counts are shown, or the home view's first photos
    if f"{{what}}_at" not in marks:
        marks[f"{{what}}_at"], marks[f"cpu_at_{{what}}"] = time.time(), cpu()
        if "ready_at" in marks and "results_at" in marks:
            QTimer.singleShot(int({close_after} * 1000), lambda: close(window))

def close(window):
    marks["close_at"] = time.time()
    print(json.dumps(marks), flush=True)
    window.close()

first_paint = FirstPaint()
app.installEventFilter(first_paint)
paths = Paths(Path({home!r}))
end_process(run_gui(paths, load_settings(paths)))  # as `photosift` opens the window
"""


def stand_in_model_files(home: Path) -> None:
    """Empty files where the synthetic library's model keeps its files, so it reads as installed."""
    from synthetic_library import synthetic_spec

    from photosift.core.models.files import missing_files
    from photosift.core.settings import Paths

    for needed in missing_files(synthetic_spec(), Paths(home)):
        needed.path.parent.mkdir(parents=True, exist_ok=True)
        needed.path.touch()


def stale(home: Path) -> bool:
    """Whether the cached library at `home` holds no embeddings of the synthetic spec as it is now."""
    from synthetic_library import synthetic_spec

    if not (home / "catalog.sqlite3").exists():
        return False
    with contextlib.closing(sqlite3.connect(home / "catalog.sqlite3")) as db:
        return db.execute("SELECT 1 FROM models WHERE key = ?", (synthetic_spec().key,)).fetchone() is None


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def child_environment(compile_each_run: bool) -> dict[str, str]:
    """The launches' environment: bytecode kept under bench-out/pycache unless `compile_each_run`."""
    if compile_each_run:
        return dict(os.environ)
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPYCACHEPREFIX": str(REPO / "bench-out" / "pycache")}


def measure(home: Path, close_after: float, env: dict[str, str]) -> dict[str, float]:
    code = CHILD.format(home=str(home), close_after=close_after)
    launched = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
    exited = time.time()
    if out.returncode:
        raise SystemExit(f"the window process failed:\n{out.stderr}")
    marks = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "window shown": marks["shown_at"] - launched,
        "CPU by then": marks["cpu_at_shown"],
        "counts shown": marks["ready_at"] - launched,
        "CPU by then ": marks["cpu_at_ready"],
        "first photos shown": marks["results_at"] - launched,
        "CPU by then  ": marks["cpu_at_results"],
        "quit": exited - marks["close_at"],
    }


def floor(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of `python -c code`."""
    cpu, started = children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)
    return time.perf_counter() - started, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--close-after", type=float, default=2.0, help="seconds the window stays open")
    parser.add_argument(
        "--compile-each-run", action="store_true", help="keep PYTHONDONTWRITEBYTECODE as the environment sets it"
    )
    args = parser.parse_args()
    from synthetic_library import build

    env = child_environment(args.compile_each_run)
    print("bytecode:", "as the environment says" if args.compile_each_run else "kept under bench-out/pycache")
    for code in ("pass", "import PySide6.QtWidgets"):
        if not args.compile_each_run:
            floor(code, env)  # unmeasured: fills the bytecode cache
        wall, cpu = floor(code, env)
        print(f"floor: python -c {code!r}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    for n in args.photos:
        home = REPO / "bench-out" / f"window-{n}"
        if stale(home):
            shutil.rmtree(home)
        if not (home / "catalog.sqlite3").exists():
            print(f"building a synthetic library of {n:,} photos in {home} ...", flush=True)
            build(home, n, progress=False)
        stand_in_model_files(home)
        if not args.compile_each_run and n == args.photos[0]:
            measure(home, 0, env)  # unmeasured: fills the bytecode cache, as an install or first launch does
        for run in range(args.runs):
            marks = measure(home, args.close_after, env)
            shown = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in marks.items())
            print(f"{n:>7,} photos, run {run + 1}: {shown}", flush=True)


if __name__ == "__main__":
    main()
