"""How long one paint of the results grid takes, alone and beside busy Python threads.

    python benchmarks/bench_grid_paint.py [--paints 40] [--busy 1,3]

While indexing runs, decode, model and catalog threads take turns holding the GIL; any Python the GUI
thread runs must wait for it, so a paint's cost beside them depends on how often painting calls into
Python. Opens the real main window (offscreen) over a page of 200 results with placeholder thumbnails,
then repaints the grid's viewport PAINTS times with no other thread, and again beside N threads that spin
in Python at the background threads' priority. Prints the median and the slowest paint of each; the
ratio to the paint alone is the figure to compare across machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import close_main_window, open_main_window

ROWS = 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paints", type=int, default=40)
    parser.add_argument("--busy", default="1,3", help="comma-separated numbers of busy Python threads")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as home:
        return run(Path(home), args.paints, [int(n) for n in args.busy.split(",")])


def run(home: Path, paints: int, busy: list[int]) -> int:
    from PySide6.QtWidgets import QApplication

    from photosift.app.gui.app import prefer_the_gui_thread
    from photosift.app.priority import lower_this_thread
    from photosift.core.search.records import SearchHit, SearchPage

    window = open_main_window(home, "vit-b-32-metaclip")
    app = QApplication.instance()
    assert app is not None  # open_main_window made it
    prefer_the_gui_thread()
    window.show()
    hits = tuple(SearchHit(i, f"/photos/holiday/IMG_{i:05d}.jpg", 0.3) for i in range(ROWS))
    window.model.reset(SearchPage(hits, 0, ROWS, False))
    app.processEvents()
    viewport = window.results_view.viewport()

    def paint_times() -> list[float]:
        times = []
        for _ in range(paints):
            started = time.perf_counter()
            viewport.repaint()
            times.append((time.perf_counter() - started) * 1000)
        return times

    alone = paint_times()
    print(f"one paint of the grid ({ROWS} results, 1200x800 window)")
    print(f"  alone: median {statistics.median(alone):.1f} ms, slowest {max(alone):.1f} ms")

    def spin(stop: threading.Event) -> None:
        lower_this_thread()
        while not stop.is_set():
            sum(range(100))

    for count in busy:
        stop = threading.Event()
        threads = [threading.Thread(target=spin, args=(stop,)) for _ in range(count)]
        for thread in threads:
            thread.start()
        time.sleep(0.2)
        times = paint_times()
        stop.set()
        for thread in threads:
            thread.join()
        median = statistics.median(times)
        print(
            f"  beside {count} busy Python thread(s): median {median:.1f} ms "
            f"({median / statistics.median(alone):.1f}x alone), slowest {max(times):.1f} ms"
        )
    close_main_window(window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
