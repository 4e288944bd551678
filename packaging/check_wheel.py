"""Build Photosift's wheel and check that it carries every data file the code reads at run time.

    python packaging/check_wheel.py [--out dist]

An editable install (`pip install -e .`, the README's commands) reads `resources/` and the migrations
straight from the source tree, so a data file missing from the wheel goes unnoticed until somebody
installs the wheel: then the app starts with no models to offer, or cannot create its database. This
script builds the wheel as `pip install .` would (from a copy of the sources, so the checkout gains no
`build/` folder) and lists what it lacks. Exit status 1 when something is missing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# What the build needs: the packages, their data, and the two files pyproject.toml refers to.
SOURCES = ("pyproject.toml", "README.md", "app", "core", "training", "resources")
# Data files read from beside the code at run time; each must be in the wheel at the same relative path.
DATA_GLOBS = ("resources/**/*", "core/migrations/**/*.py")


def build_wheel(out_dir: Path) -> Path:
    """Build the wheel into `out_dir` from a temporary copy of the sources and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="photosift-build-") as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        for name in SOURCES:
            path = REPO / name
            if path.is_dir():
                shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(path, source / name)
        # The PEP 517 hook, run in the copy: what pip runs, without pip's network-bound build isolation.
        script = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
        done = subprocess.run(
            [sys.executable, "-c", script, str(out_dir.resolve())],
            cwd=source,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"building the wheel failed:\n{done.stderr[-4000:]}")
        return out_dir / done.stdout.strip().splitlines()[-1]


def missing_data_files(wheel: Path) -> list[str]:
    """The source tree's run-time data files that the wheel does not contain, as relative paths."""
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    wanted = {
        path.relative_to(REPO).as_posix()
        for pattern in DATA_GLOBS
        for path in REPO.glob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    }
    return sorted(wanted - packed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    args = parser.parse_args()
    wheel = build_wheel(args.out)
    missing = missing_data_files(wheel)
    print(f"built {wheel}")
    for name in missing:
        print(f"missing from the wheel: {name}")
    if not missing:
        print("every run-time data file is in the wheel")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
