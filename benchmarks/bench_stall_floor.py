"""The machine's own stall floor: how late a bare event loop's timer runs while other processes keep
every CPU busy.

    python benchmarks/bench_stall_floor.py [--seconds 300] [--burners 2]

`bench_gui.py` measures the app's longest event-loop stall while it indexes. Part of any such figure
belongs to the machine, not the app: on a virtual machine the host stops a virtual CPU for tens of
milliseconds at a time ("steal"), and a busy machine's scheduler decides when a woken thread runs.
This script runs the same PROBE_MS probe in a process that does nothing else, beside BURNERS processes
at nice 10 that spin in pure Python (as the indexing threads run at nice 10). They are separate
processes, so no GIL is shared and nothing in the probe's process competes with it: whatever stalls it
records, no change inside the app could remove. Compare its stalls over 30 and 50 ms per minute, and
the steal each run prints, with bench_gui.py's.
"""

from __future__ import annotations

import argparse
import os
import sys

from _probe import PROBE_MS, Probe, burners


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 2, help="CPU-bound processes at nice 10")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with burners(args.burners):
        probe = probe_for(args.seconds)
    print(f"{args.burners} burner processes at nice 10, {args.seconds:g} s")
    probe.report()
    return 0


def probe_for(seconds: float) -> Probe:
    """Run an empty Qt event loop with the PROBE_MS probe for `seconds`."""
    from PySide6.QtCore import QCoreApplication, QTimer

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    probe = Probe()
    timer = QTimer(interval=PROBE_MS)
    timer.timeout.connect(probe.tick)
    QTimer.singleShot(int(seconds * 1000), app.quit)
    probe.start()
    timer.start()
    app.exec()
    return probe


if __name__ == "__main__":
    sys.exit(main())
