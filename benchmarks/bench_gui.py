"""The longest GUI event-loop stall while the app indexes a library and the user scrolls the results.

    python benchmarks/bench_gui.py [--folder ../shared/data/tiny-imagenet-val] [--model vit-b-32-metaclip]
                                   [--seconds 0] [--show]

Opens the real main window (offscreen unless --show) over a temporary library with a random-weights
model (same architecture and speed, no download), adds the folder, searches, and scrolls the grid up and
down every SCROLL_MS while indexing runs (new results stream in every few seconds). A PROBE_MS timer
measures how late each of its ticks arrives: lateness is time the GUI thread could not process events.
Target: the longest stall under 50 ms. Stops a second after indexing finishes (the window takes in the
finished run meanwhile), or after --seconds if given; closing the window is not measured.

`--beside-burners SECONDS` measures the other half of the picture: it indexes (unmeasured), then
scrolls for SECONDS while CPU-burning processes at nice 10 keep the CPUs as busy as indexing did,
sharing no GIL with the window. Beside `bench_stall_floor.py` (the same load, no window), it tells the
GUI thread's own stalls from the machine's, and from those that come of sharing the process with indexing.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import gc
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from _common import SHARED_DATA, close_main_window, open_main_window
from _probe import PROBE_MS, Probe, burners

SCROLL_MS = 40  # a scroll step every 40 ms: a steady flick through the grid
SCROLL_STEP = 120  # pixels per step, about half a row of thumbnails
QUERY = "a photo of an animal"
SETTLE_MS = 1000  # probing goes on this long after indexing ends: the final refreshes count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=SHARED_DATA / "tiny-imagenet-val")
    parser.add_argument("--model", default="vit-b-32-metaclip")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: when indexing ends)")
    parser.add_argument("--show", action="store_true", help="open a real window instead of rendering offscreen")
    parser.add_argument("--diagnose", action="store_true", help="print what the GUI thread ran during each stall")
    parser.add_argument(
        "--python-switch", action="store_true", help="keep Python's default GIL switch interval (for comparison)"
    )
    parser.add_argument(
        "--python-gc", action="store_true", help="leave start-up objects to the cyclic collector (for comparison)"
    )
    parser.add_argument(
        "--lazy-tokenizer",
        action="store_true",
        help="build the text tokenizer on the worker, not before the event loop (for comparison)",
    )
    parser.add_argument(
        "--beside-burners",
        type=float,
        default=0,
        metavar="SECONDS",
        help="index unmeasured, then scroll for SECONDS beside CPU-burning processes: the GUI's own stalls "
        "with the CPUs as busy but no GIL shared (compare with bench_stall_floor.py)",
    )
    args = parser.parse_args()
    if not args.show:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as home:
        if not args.python_switch:
            from photosift.app.gui.app import prefer_the_gui_thread

            prefer_the_gui_thread()
        print(f"GIL switch interval: {sys.getswitchinterval() * 1000:g} ms")
        return run(
            args.folder,
            args.model,
            args.seconds,
            Path(home),
            args.diagnose,
            freeze=not args.python_gc,
            tokenizer_first=not args.lazy_tokenizer,
            burn_seconds=args.beside_burners,
        )


class StallWatch(threading.Thread):
    """Prints every thread's stack whenever the GUI thread has not come back to the event loop for STALL_MS:
    the GUI thread's shows what it was doing, the others which one held the GIL meanwhile."""

    STALL_MS = 40

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.main_id = threading.main_thread().ident
        self.last = time.perf_counter()
        self.stop = threading.Event()

    def tick(self) -> None:
        self.last = time.perf_counter()
        # A C watchdog needs no GIL: if a thread holds it for 100 ms, this still dumps every stack.
        faulthandler.dump_traceback_later(0.1, exit=False)

    def run(self) -> None:
        reported = 0.0
        while not self.stop.wait(0.01):
            late = (time.perf_counter() - self.last) * 1000
            if late > self.STALL_MS and self.last != reported:
                reported = self.last
                names = {t.ident: t.name for t in threading.enumerate()}
                lines = [f"--- GUI thread {late:.0f} ms late; threads now in:"]
                for ident, frame in sys._current_frames().items():
                    if ident != self.ident:
                        where = traceback.format_stack(frame)[-3:]
                        lines.append(f"[{names.get(ident, ident)}]\n" + "".join(where))
                print("\n".join(lines), file=sys.stderr)


class CollectionTimes:
    """How long the cyclic garbage collector held the GIL, per generation: a full collection walks every
    tracked object, whichever thread triggers it, and the GUI thread waits for all of it."""

    REPORT_MS = 20  # collections longer than this are printed as they happen, beside the stalls

    def __init__(self) -> None:
        self.longest = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._started: float | None = None
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started is None:  # registered while another thread's collection ran its finalizers
            return
        generation, took = info["generation"], (time.perf_counter() - self._started) * 1000
        self._started = None
        self.count[generation] += 1
        self.longest[generation] = max(self.longest[generation], took)
        if took > self.REPORT_MS:
            tracked, thread = len(gc.get_objects(generation)), threading.current_thread().name
            print(
                f"collection: gen {generation} took {took:.0f} ms over {tracked} objects on {thread}; "
                f"monotonic {time.monotonic():.3f} s",  # the stall lines print the same clock
                file=sys.stderr,
            )

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> str:
        per_generation = ", ".join(f"gen {g}: {self.count[g]} (longest {self.longest[g]:.1f} ms)" for g in range(3))
        return f"garbage collections: {per_generation}; {len(gc.get_objects())} objects tracked at the end"


def run(
    folder: Path,
    model: str,
    seconds: float,
    home: Path,
    diagnose: bool = False,
    freeze: bool = True,
    tokenizer_first: bool = True,
    burn_seconds: float = 0,
) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from photosift.app.gui.app import exempt_startup_objects_from_gc

    window = open_main_window(home, model)
    app, runner = QApplication.instance(), window.parts.runner
    assert app is not None  # open_main_window made it
    if tokenizer_first:
        runner.library.encoder.prepare_bundled_tokenizer()
    if freeze:
        exempt_startup_objects_from_gc()
    collections = CollectionTimes()
    window.show()

    stage = ["starting"]  # the indexing stage each long stall happened in
    runner.progress.connect(lambda p: stage.__setitem__(0, p.stage))
    probe = Probe(lambda: stage[0])
    watch = StallWatch() if diagnose else None

    def on_probe() -> None:
        if watch is not None:
            watch.tick()
        probe.tick()

    direction = [1]

    def scroll() -> None:
        bar = window.parts.results_view.verticalScrollBar()
        if bar.value() >= bar.maximum() or bar.value() <= bar.minimum():
            direction[0] = -direction[0] if bar.maximum() else 1
        bar.setValue(bar.value() + direction[0] * SCROLL_STEP)

    timers = [QTimer(interval=PROBE_MS), QTimer(interval=SCROLL_MS)]
    timers[0].timeout.connect(on_probe)
    timers[1].timeout.connect(scroll)
    started, ended = time.perf_counter(), [0.0]

    def stop() -> None:
        """Stop measuring, then quit: closing the window (joining the watcher's threads) is not a stall
        the user sees while working, so it is left out."""
        for timer in timers:
            timer.stop()
        ended[0] = ended[0] or time.perf_counter()
        app.quit()

    def indexing_done() -> None:
        ended[0] = time.perf_counter()
        QTimer.singleShot(SETTLE_MS, stop)  # keep probing while the window takes in the finished run

    def start_measuring() -> None:
        probe.start()
        for timer in timers:
            timer.start()
        if watch is not None:
            watch.start()

    burning = contextlib.ExitStack()

    def burn_after_indexing() -> None:
        if not timers[0].isActive():  # the first run's end; a later one (the watcher's) changes nothing
            burning.enter_context(burners(os.cpu_count() or 2))
            start_measuring()
            QTimer.singleShot(int(burn_seconds * 1000), stop)

    window.indexing_finished.connect(lambda _: burn_after_indexing() if burn_seconds else indexing_done())
    if seconds:
        QTimer.singleShot(int(seconds * 1000), stop)
    window.add_folder(folder)
    window.search_for(QUERY)
    if not burn_seconds:
        start_measuring()
    with burning:
        app.exec()
    elapsed = ended[0] - started
    status = runner.library.status()
    close_main_window(window)
    collections.stop()
    rate, rows = status.embedded / elapsed, window.parts.results_model.rowCount()
    if burn_seconds:
        print(f"indexed {status.embedded} photos, then scrolled {rows} results for {burn_seconds:g} s beside burners")
    else:
        print(f"indexed {status.embedded} photos in {elapsed:.1f} s ({rate:.1f} photos/s), {rows} results in the grid")
    probe.report()
    print(collections.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
