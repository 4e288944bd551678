"""Packaging: the wheel (what `pip install .` and installers start from) carries the data files the code
reads, and the Linux desktop entry installs into the user's application menu."""

import configparser
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import TEST_MODELS, make_photo, with_tiny_export

from photosift.core.settings import Paths

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip install .` would build, checked by packaging/check_wheel.py on the way."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, str(REPO / "packaging" / "check_wheel.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = out.glob("photosift-*.whl")
    return built


def test_the_wheel_installs_one_package_with_its_specs_tags_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    # What the code reads through importlib.resources and Alembic, inside the one package.
    assert "photosift/resources/models/mcip-siglip-so400m-384.json" in names
    assert "photosift/resources/tags/vocabulary.json" in names
    assert any(name.startswith("photosift/core/migrations/versions/") for name in names)
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {"photosift"}


def fresh_venv_with(wheel: Path, root: Path) -> Path:
    """A new virtual environment with only the wheel installed; its dependencies come from this test
    run's environment through a path entry (whose own .pth files, such as the editable install's
    import hook, are not processed). Returns its bin folder."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=240,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def decoy_folder(root: Path) -> Path:
    """A folder holding packages named like our old top-level ones, each announcing itself if run."""
    for name in ("training", "core", "app", "photosift"):
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text("print('DECOY', __name__)\n")
        (root / name / "__main__.py").write_text("print('DECOY main', __name__)\n")
    return root


@pytest.mark.skipif(sys.platform == "win32", reason="the venv layout (bin/) is POSIX's")
def test_the_wheel_runs_in_a_fresh_venv_and_a_folder_of_decoys_cannot_hijack_it(
    wheel: Path, tmp_path: Path, tiny_export: Path
) -> None:
    bin_dir = fresh_venv_with(wheel, tmp_path)
    cwd = decoy_folder(tmp_path / "work")
    env = {**os.environ, "PHOTOSIFT_HOME": str(tmp_path / "home"), "PYTHONPATH": ""}
    with_tiny_export(Paths(tmp_path / "home").models, tiny_export)  # what is tested here is the install

    def photosift(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / "photosift"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
        )

    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import photosift.core; print(photosift.core.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(tmp_path / "venv"))  # the installed copy, not the source tree
    helped = photosift("--help")
    assert helped.returncode == 0 and "usage: photosift" in helped.stdout
    trainer = photosift("train", "--help")  # runs `python -m photosift.training` from the decoys' folder
    assert trainer.returncode == 0 and "--data" in trainer.stdout, trainer.stderr
    photos = tmp_path / "photos"
    for i, colour in enumerate(("red", "green", "blue")):
        make_photo(photos / f"{i}.jpg", colour)
    indexed = photosift("index", str(photos), "--model", str(TEST_MODELS / "tiny.json"))
    assert indexed.returncode == 0, indexed.stderr
    status = photosift("status", "--json", "--model", str(TEST_MODELS / "tiny.json"))
    assert status.returncode == 0, status.stderr
    for run in (helped, trainer, indexed, status):
        assert "DECOY" not in run.stdout + run.stderr


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
