"""A text search beside rclip's, as a whole command and in process: issue 17's query target.

    python benchmarks/bench_text_search.py --rclip /path/to/venv/bin/rclip [--source tiny-imagenet-val]
                                           [--limit 10000] [--runs 5] [--queries 21] [--keep DIR]

Both tools first index the same photos (untimed here: bench_onnx.py compares indexing) with the same
architecture: open_clip's ViT-B-32-256, which rclip 3 runs, with random weights; rclip's towers are exported
as rclip's own conversion script makes them and laid where rclip looks for its download, so nothing is
fetched. Then:

- whole command: `photosift search TEXT --limit 10` beside `rclip --no-indexing --top 10 TEXT`, each a new
  process started in the photos' folder, alternating, with `python -c pass` beside them; median wall and
  CPU seconds of --runs. Bytecode is kept for both, as an installed app keeps it.
- in process: each tool's model loaded and one query answered first (index load, first session run),
  then each further query text encoded and searched: the median milliseconds a query, over --runs
  processes. rclip's is its own `RClip.search`, which reads its vectors from its database each time, as
  its command does.

--keep DIR keeps both libraries (minutes to index) for the next run. Targets (issue 17): none numeric;
the issue asks for both figures beside rclip's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import linked_folder, photo_files, random_weights_spec
from _rclip import rclip_environment, rclip_home, rclip_spec
from bench_startup import median_seconds, photosift_command
from bench_window import child_environment

from photosift.core.models.spec import dump_spec
from photosift.core.settings import Paths

QUERIES = (
    "a dog on the grass",
    "a red sports car",
    "a bowl of fruit on a table",
    "children playing on a beach",
    "a cat sleeping on a sofa",
    "a bridge over a river at night",
    "a bee on a yellow flower",
    "snow on the mountains",
    "a plate of pasta",
    "an old stone church",
    "a school bus",
    "a lighthouse by the sea",
    "a teddy bear",
    "a man riding a bicycle",
    "a goldfish in a bowl",
    "a butterfly on a leaf",
    "a wooden chair",
    "a pizza with mushrooms",
    "a train in a station",
    "ants carrying food",
    "a sunset over the ocean",
)
PHOTOSIFT_IN_PROCESS = """
import json, sys, time
from photosift.app.main import build_library
from photosift.core.settings import Paths, load_settings
paths = Paths.default()
library = build_library(paths, load_settings(paths))
library.encoder.load()
queries = json.loads(sys.argv[1])
library.search(queries[0], limit=10)
seconds = []
for query in queries[1:]:
    start = time.perf_counter()
    library.search(query, limit=10)
    seconds.append(time.perf_counter() - start)
print(json.dumps(seconds))
"""
RCLIP_IN_PROCESS = """
import json, os, sys, time
from rclip.main import init_rclip
rclip, model, db = init_rclip(os.getcwd(), 8, no_indexing=True)
queries = json.loads(sys.argv[1])
rclip.search(queries[0], os.getcwd(), 10)
seconds = []
for query in queries[1:]:
    start = time.perf_counter()
    rclip.search(query, os.getcwd(), 10)
    seconds.append(time.perf_counter() - start)
print(json.dumps(seconds))
"""


def prepare(root: Path, source: str, limit: int, rclip: str) -> tuple[Path, dict[str, str], dict[str, str]]:
    """Index `limit` photos of `source` with both tools under `root` (once); the photos' folder and the
    two tools' environments."""
    folder, home, datadir = root / "photos", root / "photosift", root / "rclip"
    photosift_env = child_environment(False) | {"PHOTOSIFT_HOME": str(home)}
    rclip_env = rclip_environment(datadir) | {"PYTHONPYCACHEPREFIX": photosift_env["PYTHONPYCACHEPREFIX"]}
    rclip_env.pop("PYTHONDONTWRITEBYTECODE", None)
    if (root / "ready").exists():
        return folder, photosift_env, rclip_env
    linked_folder(folder, photo_files(source, limit))
    paths = Paths(home)
    paths.ensure()
    spec = rclip_spec(random_weights_spec("vit-b-32-metaclip", paths))
    spec_file = home / "vit-b-32-256.json"
    dump_spec(spec, spec_file)
    print(f"indexing {limit} photos with Photosift…", flush=True)
    index = [*photosift_command(["index", str(folder), "--model", str(spec_file), "--no-ocr"])]
    subprocess.run(index, env=photosift_env, check=True, capture_output=True)
    rclip_home(spec, datadir)
    print(f"indexing {limit} photos with rclip…", flush=True)
    subprocess.run([rclip, "-f", "-t", "1", "a photo"], cwd=folder, env=rclip_env, check=True, capture_output=True)
    (root / "ready").touch()
    return folder, photosift_env, rclip_env


def in_process_ms(python: str, code: str, folder: Path, env: dict[str, str], runs: int) -> float:
    """The median milliseconds a query, over `runs` processes each answering every query after the first."""
    medians = []
    for _ in range(runs):
        out = subprocess.run(
            [python, "-c", code, json.dumps(QUERIES)], cwd=folder, env=env, capture_output=True, text=True
        )
        if out.returncode:
            raise SystemExit(f"an in-process run failed:\n{out.stderr}")
        medians.append(1000 * statistics.median(json.loads(out.stdout.strip().splitlines()[-1])))
    return statistics.median(medians)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rclip", required=True, help="an installed `rclip` command")
    parser.add_argument("--source", default="tiny-imagenet-val", choices=["hymenoptera", "tiny-imagenet-val"])
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep both indexed libraries here for the next run")
    args = parser.parse_args()
    rclip_python = str(Path(args.rclip).parent / "python")
    print(f"host: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at start", flush=True)
    with tempfile.TemporaryDirectory(prefix="photosift-bench-text-") as tmp:
        root = args.keep or Path(tmp)
        folder, photosift_env, rclip_env = prepare(root, args.source, args.limit, args.rclip)
        query = QUERIES[0]
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], photosift_env),
            "photosift search": (photosift_command(["search", query, "--limit", "10"]), photosift_env),
            "rclip --no-indexing": ([args.rclip, "-n", "-t", "10", query], rclip_env),
        }
        whole = {}
        for name, (command, env) in commands.items():
            wall, cpu, code = median_seconds(command, env, args.runs, cwd=folder)
            if code:
                raise SystemExit(f"{name} exited with {code}")
            whole[name] = (wall, cpu)
        in_process = {
            "photosift": in_process_ms(sys.executable, PHOTOSIFT_IN_PROCESS, folder, photosift_env, args.runs),
            "rclip": in_process_ms(rclip_python, RCLIP_IN_PROCESS, folder, rclip_env, args.runs),
        }
    print(
        f"\n{args.limit} photos from {args.source}, ViT-B-32-256 (random weights) on onnxruntime in both; "
        f"load {os.getloadavg()[0]:.1f} at the end; medians of {args.runs}"
    )
    print(f"{'whole command':<24}{'wall s':>8}{'CPU s':>8}")
    for name, (wall, cpu) in whole.items():
        print(f"{name:<24}{wall:>8.2f}{cpu:>8.2f}")
    print(f"photosift / rclip wall: {whole['photosift search'][0] / whole['rclip --no-indexing'][0]:.2f}")
    print(f"in process, text encoding + search of one query ({len(QUERIES) - 1} queries after a first):")
    for name, ms in in_process.items():
        print(f"  {name:<22}{ms:>8.1f} ms")
    print(f"photosift / rclip in process: {in_process['photosift'] / in_process['rclip']:.2f}")


if __name__ == "__main__":
    main()
