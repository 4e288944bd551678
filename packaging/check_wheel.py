"""Build Photosift's wheel and check that it carries every module and data file, under one package.

    python packaging/check_wheel.py [--out dist]

An editable install (`pip install -e .`, the README's commands) reads `resources/` and the migrations
straight from the source tree, so a data file missing from the wheel goes unnoticed until somebody
installs the wheel: then the app starts with no models to offer, or cannot create its database. The
same holds for a subpackage missing from pyproject's explicit package list. This script builds the wheel
as `pip install .` would (from a copy of the sources, so the checkout gains no `build/` folder) and lists
what it lacks, and anything it installs outside the one import package `photosift`. Exit status 1 when
something is wrong.
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
# The folders that install as `photosift.<folder>`: every file in them belongs in the wheel.
PACKAGE_FOLDERS = ("app", "core", "training", "resources")
PACKAGE = "photosift"


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


def missing_files(wheel: Path) -> list[str]:
    """The source packages' files (modules and data) that the wheel lacks, as paths inside the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    wanted = {
        f"{PACKAGE}/{path.relative_to(REPO).as_posix()}"
        for folder in PACKAGE_FOLDERS
        for path in (REPO / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    return sorted(wanted - packed)


def stray_top_level_names(wheel: Path) -> list[str]:
    """Top-level names the wheel would put into site-packages besides `photosift` and its metadata."""
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    return sorted(top for top in tops if top != PACKAGE and not top.endswith(".dist-info"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    args = parser.parse_args()
    wheel = build_wheel(args.out)
    missing = missing_files(wheel)
    stray = stray_top_level_names(wheel)
    print(f"built {wheel}")
    for name in missing:
        print(f"missing from the wheel: {name}")
    for name in stray:
        print(f"installed outside the photosift package: {name}")
    if not missing and not stray:
        print("every module and data file is in the wheel, under photosift/")
    return 1 if missing or stray else 0


if __name__ == "__main__":
    sys.exit(main())
