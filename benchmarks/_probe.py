"""The event-loop probe's accounting, shared by bench_gui.py (the app) and bench_stall_floor.py (the machine)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QElapsedTimer

PROBE_MS = 5  # the probe's period: stalls are measured to about this resolution
LONG_MS = 50  # the target: each stall over it is printed as it happens
# What each burner process runs: lower its own priority like the app's background threads, then spin.
BURN = "import os\nos.nice(10)\nwhile True:\n    pass\n"


@contextmanager
def burners(count: int) -> Iterator[None]:
    """Keep `count` CPUs busy with processes at nice 10 that spin in pure Python: load like indexing's,
    with no GIL shared with this process."""
    running = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(count)]
    try:
        yield
    finally:
        for burner in running:
            burner.kill()
            burner.wait()


class Probe:
    """The PROBE_MS timer's slot: records how late each tick arrives (a stall: time the thread running the
    event loop could not process events), the host's steal meanwhile, and each stall over LONG_MS with
    `context()` (the indexing stage, say)."""

    def __init__(self, context: Callable[[], str] = lambda: "") -> None:
        self.stalls: list[int] = []
        self.long_ones: list[str] = []
        self.steal = StealClock()
        self._context = context
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last = 0
        self._started = time.perf_counter()

    def start(self) -> None:
        """Start timing from now (call just before the timer starts)."""
        self._last = self._clock.elapsed()
        self._started = time.perf_counter()

    def tick(self) -> None:
        now = self._clock.elapsed()
        stall = now - self._last - PROBE_MS
        self._last = now
        self.stalls.append(stall)
        stolen = self.steal.tick(stall)
        if stall > LONG_MS:
            where = ", ".join(filter(None, [self._context(), f"{stolen:.0f} ms stolen"]))
            self.long_ones.append(f"{stall} ms at {time.perf_counter() - self._started:.1f} s ({where})")
            print(f"stall: {self.long_ones[-1]}; monotonic {time.monotonic():.3f} s", file=sys.stderr, flush=True)

    def report(self) -> None:
        """Print the stall figures both benchmarks compare: longest, p99, p99.9, counts over 30 and 50 ms,
        each long stall, and the steal."""
        ordered = sorted(self.stalls)
        p99 = ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0
        p999 = ordered[int(0.999 * (len(ordered) - 1))] if ordered else 0
        longest = max(ordered, default=0)
        print(f"event-loop probes: {len(ordered)}; longest stall {longest} ms, p99 {p99} ms, p99.9 {p999} ms")
        print(f"stalls over 30 ms: {sum(1 for s in ordered if s > 30)} (a finer count for comparing short runs)")
        print(f"stalls over {LONG_MS} ms: {sum(1 for s in ordered if s > LONG_MS)} (target: longest under 50 ms)")
        if self.long_ones:
            print("  " + "; ".join(self.long_ones))
        print(self.steal.summary())


class StealClock:
    """Tells the stalls this process caused from those of the machine: on a virtual machine the host can
    stop a virtual CPU for tens of milliseconds (Linux counts that time as "steal" in /proc/stat), and a
    GUI thread waiting on that CPU stalls whatever the app does. Reads the per-CPU counters at each probe
    (10 ms ticks, so the net figure is good to about 10 ms). Elsewhere than Linux it reports no steal."""

    def __init__(self) -> None:
        self._tick_ms = 1000 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 10.0
        self._last = self._read()
        self.total_ms = 0.0
        self.longest_net = 0.0  # the longest stall less the most any one CPU was stolen meanwhile

    def _read(self) -> list[int]:
        try:
            with open("/proc/stat") as stat:
                return [int(line.split()[8]) for line in stat if line.startswith("cpu") and line[3].isdigit()]
        except (OSError, IndexError, ValueError):
            return []

    def tick(self, stall_ms: float) -> float:
        """Account for one probe interval; returns the most any one CPU was stolen during it (ms)."""
        now = self._read()
        stolen = [(a - b) * self._tick_ms for a, b in zip(now, self._last, strict=False)]
        self._last = now
        self.total_ms += sum(stolen)
        self.longest_net = max(self.longest_net, stall_ms - max(stolen, default=0.0))
        return max(stolen, default=0.0)

    def summary(self) -> str:
        return (
            f"host steal time during the run: {self.total_ms:.0f} ms; "
            f"longest stall net of steal: {self.longest_net:.0f} ms"
        )
