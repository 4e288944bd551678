"""How long one paint of the results grid takes, alone and beside busy Python threads, and how long
the justified layout takes for many results.

    python benchmarks/bench_grid_paint.py [--paints 40] [--busy 1,3] [--rows 200] [--pictures]

While indexing runs, decode, model and catalog threads take turns holding the GIL; any Python the GUI
thread runs must wait for it, so a paint's cost beside them depends on how often painting calls into
Python. Opens the real main window (offscreen) over ROWS results of mixed shapes (landscape, portrait,
square, panorama), with placeholder thumbnails or, with --pictures, real thumbnails written into the
cache first. Prints how long the results took to lay out (putting them in the model, and laying them out
again for another thumbnail size), then repaints the grid's viewport PAINTS times with no other thread, and
again beside N threads that spin in Python at the background threads' priority: the median and the
slowest paint of each; the ratio to the paint alone is the figure to compare across machines.
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

ASPECTS = (1.5, 2 / 3, 4 / 3, 1.0, 3.0, 0.75, 16 / 9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paints", type=int, default=40)
    parser.add_argument("--busy", default="1,3", help="comma-separated numbers of busy Python threads")
    parser.add_argument("--rows", type=int, default=200, help="results in the grid")
    parser.add_argument("--pictures", action="store_true", help="real thumbnails instead of placeholders")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as home:
        return run(Path(home), args.paints, [int(n) for n in args.busy.split(",")], args.rows, args.pictures)


def run(home: Path, paints: int, busy: list[int], rows: int, pictures: bool) -> int:
    from PySide6.QtWidgets import QApplication

    from photosift.app.gui import main_window
    from photosift.app.gui.app import prefer_the_gui_thread
    from photosift.app.priority import lower_this_thread
    from photosift.core.search.records import SearchHit, SearchPage

    # The start-up pruning would delete the thumbnails written below: none of these photos is in the catalog.
    main_window.prune_thumbnails = lambda cache_dir, live_ids: 0
    window = open_main_window(home, "vit-b-32-metaclip")
    app = QApplication.instance()
    assert app is not None  # open_main_window made it
    prefer_the_gui_thread()
    shown: list[bool] = []
    window.results_shown.connect(lambda: shown.append(True))
    window.show()
    deadline = time.monotonic() + 60
    while not shown and time.monotonic() < deadline:  # the empty timeline, which would replace our rows
        app.processEvents()
        time.sleep(0.01)
    aspects = [ASPECTS[i % len(ASPECTS)] for i in range(rows)]
    if pictures:
        write_thumbnails(window.parts.thumbnails.cache_dir, window.parts.thumbnails.size, aspects[:1000])
    hits = tuple(SearchHit(i, f"/photos/holiday/IMG_{i:05d}.jpg", 0.3, a) for i, a in enumerate(aspects))
    started = time.perf_counter()
    window.parts.results_model.reset(SearchPage(hits, 0, rows, False))
    while window.parts.results_model.filling():  # many rows are made over several turns of the event loop
        app.processEvents()
    app.processEvents()  # the view lays the rows out
    filled = time.perf_counter() - started
    started = time.perf_counter()
    window.set_thumbnail_size(176)  # every line changes height (a resize waits for calm with many rows)
    app.processEvents()
    relaid = time.perf_counter() - started
    print(f"{rows:,} results: in the grid in {filled * 1000:.0f} ms, at another size in {relaid * 1000:.0f} ms")
    if pictures:
        on_screen = window.parts.results_view.rows_on_screen()
        for _ in range(100):  # the rows on screen ask for their thumbnails, which load from the cache
            app.processEvents()
            window.parts.thumbnails.wait()
            if all(window.parts.thumbnails.is_ready(i) for i in on_screen):
                break
        app.processEvents()
    viewport = window.parts.results_view.viewport()

    def paint_times() -> list[float]:
        times = []
        for _ in range(paints):
            started = time.perf_counter()
            viewport.repaint()
            times.append((time.perf_counter() - started) * 1000)
        return times

    alone = paint_times()
    print(f"one paint of the grid ({'thumbnails' if pictures else 'placeholders'}, 1200x800 window)")
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


def write_thumbnails(cache_dir: Path, size: int, aspects: list[float]) -> None:
    """Thumbnails as the cache names them (photo id and size), so the grid finds them made."""
    from PIL import Image

    cache_dir.mkdir(parents=True, exist_ok=True)
    for photo_id, aspect in enumerate(aspects):
        width, height = (size, round(size / aspect)) if aspect >= 1 else (round(size * aspect), size)
        colour = (photo_id * 37 % 256, photo_id * 91 % 256, 160)
        Image.new("RGB", (width, height), colour).save(cache_dir / f"{photo_id}-{size}.jpg", quality=85)


if __name__ == "__main__":
    sys.exit(main())
