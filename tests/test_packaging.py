"""Packaging: the wheel (what `pip install .` and installers start from) carries the data files the code
reads, and the Linux desktop entry installs into the user's application menu."""

import configparser
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_the_wheel_installs_one_package_with_its_specs_tags_and_migrations(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "packaging" / "check_wheel.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = tmp_path.glob("photosift-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    # What the code reads through importlib.resources and Alembic, inside the one package.
    assert "photosift/resources/models/mcip-siglip-so400m-384.json" in names
    assert "photosift/resources/tags/vocabulary.json" in names
    assert any(name.startswith("photosift/core/migrations/versions/") for name in names)
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {"photosift"}


LINUX_ONLY = pytest.mark.skipif(sys.platform != "linux", reason="freedesktop.org desktop entries are for Linux")


@LINUX_ONLY
def test_the_desktop_entry_installs_for_the_user_with_the_programs_absolute_path(tmp_path: Path) -> None:
    program = tmp_path / "my venv" / "bin" / "photosift"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    data = tmp_path / "share"
    done = subprocess.run(
        ["bash", str(REPO / "packaging" / "linux" / "install-desktop-entry.sh"), str(program)],
        env={"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(data), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read(data / "applications" / "photosift.desktop")
    assert entry["Desktop Entry"]["Exec"] == f'"{program}"'
    assert entry["Desktop Entry"]["Icon"] == "photosift"
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "photosift.svg").read_bytes() == (
        REPO / "resources" / "icons" / "photosift.svg"
    ).read_bytes()


@LINUX_ONLY
def test_the_desktop_entry_refuses_a_missing_program(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(REPO / "packaging" / "linux" / "install-desktop-entry.sh"), str(tmp_path / "nowhere")],
        env={"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path / "share"), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "no photosift program found" in done.stderr
    assert not (tmp_path / "share").exists()
