"""Background threads give the CPU to the GUI thread first.

Indexing keeps more threads busy than a small machine has cores: the model's forward pass on every core,
decoders, the catalog writer, thumbnails. At equal priority the GUI thread waits its turn behind them,
and so does whichever thread holds the GIL the GUI thread needs next; on 2 cores that made paints of the
results grid wait 40-70 ms. With the worker threads at a lower priority, the GUI thread runs as soon as
it has work (measured with benchmarks/bench_gui.py: longest stall 51-70 ms -> about 30 ms, p99 10 -> 5 ms,
indexing speed unchanged within noise, since the GUI thread is idle most of the time).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Final

# A nice value: when both want a core, the GUI thread (at 0) gets about 10x the share of a thread at 10,
# and indexing still uses every idle cycle. Other apps the user runs meanwhile (at 0) come first too.
# Raising a thread's nice value needs no privileges; lowering it back would, so pool threads stay there.
BACKGROUND_NICE: Final = 10


def lower_this_thread() -> None:
    """Run the calling thread, and the threads it starts from now on (they inherit it), at BACKGROUND_NICE.

    Call it first thing in every thread the app starts for background work; thread pools started from
    such a thread (decoders, fingerprinting, the model's OpenMP threads) inherit the priority. Only Linux
    sets nice values per thread; elsewhere this does nothing (Windows and macOS schedulers already favour
    the thread that owns the window).
    """
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread) < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, thread, BACKGROUND_NICE)
    except OSError:  # a sandbox that forbids it: the thread keeps its priority, nothing else changes
        pass
