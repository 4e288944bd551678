"""Start-up: how long each light `photosift` command takes as a whole process, beside `python -c pass`.

    python benchmarks/bench_startup.py [--home DIR] [--source tiny-imagenet-val] [--runs 5]

Runs every command as its own process (what a person waits for) and prints the median of --runs runs,
then that median less Python's own start-up. With --home (a data folder indexed before, e.g. by
`PHOTOSIFT_HOME=DIR photosift index FOLDER --model tests/models/tiny.json`) the commands run against
that library, and the unchanged rescan (`photosift index`) and a text search are timed too; the search
is broken down into library opening, model load and the query itself, measured inside one process.
Without --home an empty temporary data folder is used. Targets (issue 15): the listings, `--help` and
usage errors within 0.5 s of Python's start-up; an unchanged rescan of 10,000 photos under 2 s in all.

Python's bytecode is kept as an installed app keeps it, as benchmarks/bench_window.py does (this
project's machines set PYTHONDONTWRITEBYTECODE, so every launch compiled Photosift's modules from source,
about 0.25 s of CPU): one unmeasured run of each command fills the cache under bench-out/pycache.
`--compile-each-run` measures the old way.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_window import child_environment

LIGHT = (
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("photosift --help", ["--help"]),
    ("photosift status", ["status"]),
    ("photosift models list", ["models", "list"]),
    ("photosift tag list", ["tag", "list"]),
    ("photosift albums list", ["albums", "list"]),
    ("usage error (photosift serch)", ["serch", "x"]),
    # The floor under status and the listings while they read the catalog through SQLAlchemy.
    ("python -c 'import sqlalchemy'", [sys.executable, "-c", "import sqlalchemy"]),
    ("python -c 'import sqlalchemy, numpy'", [sys.executable, "-c", "import sqlalchemy, numpy"]),
)
HEAVY_MODULES = ("torch", "open_clip", "faiss", "PySide6")
SEARCH_BREAKDOWN = """
import sys, time
t0 = time.perf_counter()
from photosift.app.main import build_library
from photosift.core.settings import Paths, load_settings
paths = Paths.default()
library = build_library(paths, load_settings(paths))
t1 = time.perf_counter()
library.encoder.load()
t2 = time.perf_counter()
page = library.search(sys.argv[1], limit=20)
t3 = time.perf_counter()
library.search(sys.argv[1] + " photo", limit=20)
t4 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f} {t4 - t3:.3f} {len(page.hits)}")
"""


def photosift_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "photosift.app", *args]


def median_seconds(
    command: list[str], env: dict[str, str], runs: int, cwd: Path | None = None
) -> tuple[float, float, int]:
    """The median wall time and median CPU time (user + system) of `runs` runs of `command`, and the exit
    code of the last. On a loaded machine the CPU time is the steadier figure: the wall time includes
    waiting for a core. Where bytecode is kept, one unmeasured run first fills its cache."""
    if "PYTHONPYCACHEPREFIX" in env:
        subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
    times, cpu, code = [], [], 0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        code = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False).returncode
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), statistics.median(cpu), code


def heavy_imports(args: list[str], env: dict[str, str]) -> str:
    """Which of torch, open_clip, faiss and Qt the command imported (run once more, in-process)."""
    probe = (
        "import sys\nfrom photosift.app.cli import run\ntry:\n    run(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules) or '-', file=sys.__stderr__)"
    )
    result = subprocess.run([sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True)
    return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an indexed data folder (default: an empty temporary one)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--query", default="a dog on the grass")
    parser.add_argument("--compile-each-run", action="store_true", help="keep no bytecode (every launch compiles)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as empty:
        home = args.home or Path(empty)
        env = child_environment(args.compile_each_run) | {"PHOTOSIFT_HOME": str(home)}
        if args.compile_each_run:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        kept = "compiled each run" if args.compile_each_run else "kept under bench-out/pycache"
        print(f"data folder: {home}; median of {args.runs} runs; bytecode {kept}")
        print(f"{os.cpu_count()} CPUs, load average {load}")
        print(f"{'command':<38}{'wall s':>8}{'- python':>10}{'CPU s':>8}{'- python':>10}  exit  heavy modules")
        base_wall = base_cpu = 0.0
        for label, command in LIGHT:
            full = command if command[0] == sys.executable else photosift_command(command)
            wall, cpu, code = median_seconds(full, env, args.runs)
            base_wall, base_cpu = base_wall or wall, base_cpu or cpu
            heavy = "-" if command[0] == sys.executable else heavy_imports(command, env)
            print(row(label, (wall, base_wall), (cpu, base_cpu), code, heavy))
        if args.home:
            wall, cpu, code = median_seconds(photosift_command(["index"]), env, args.runs)
            print(row("unchanged rescan (index)", (wall, base_wall), (cpu, base_cpu), code, ""))
            search_breakdown(args.query, env, base_wall)


def row(label: str, wall: tuple[float, float], cpu: tuple[float, float], code: int, heavy: str) -> str:
    """One line of the table: each time beside itself less Python's start-up."""
    times = f"{wall[0]:>8.2f}{wall[0] - wall[1]:>10.2f}{cpu[0]:>8.2f}{cpu[0] - cpu[1]:>10.2f}"
    return f"{label:<38}{times}  {code:>4}  {heavy}"


def search_breakdown(query: str, env: dict[str, str], baseline: float) -> None:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", SEARCH_BREAKDOWN, query], env=env, capture_output=True, text=True)
    whole = time.perf_counter() - start
    if result.returncode:
        print(f"search failed: {result.stderr.strip().splitlines()[-1]}")
        return
    opened, loaded, first, second, hits = result.stdout.split()
    print(f"search {query!r} ({hits} hits): whole process {whole:.2f} s ({whole - baseline:.2f} s above python)")
    print(f"  imports + open library {float(opened):.2f} s, model load {float(loaded):.2f} s,")
    print(f"  first query {float(first):.2f} s (text encoding + index load), next query {float(second):.3f} s")


if __name__ == "__main__":
    main()
