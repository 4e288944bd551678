"""The atomic-write helper: the old file or the new one, never a mix, and a sentence when the disk says no."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from photosift.core.atomic import atomic_folder, atomic_writer, remove_stale_temps, write_bytes, write_text
from photosift.core.errors import EnvironmentFault


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    write_text(target, "old", "the settings")
    with pytest.raises(RuntimeError), atomic_writer(target, "the settings") as f:
        f.write(b"half of the new")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]


def test_an_os_error_becomes_an_environment_fault_naming_the_file(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where a folder should be")
    with pytest.raises(EnvironmentFault, match="the export") as caught:
        write_bytes(blocked / "out.json", b"{}", "the export")
    assert str(blocked / "out.json") in str(caught.value)


def test_concurrent_writers_of_one_target_never_share_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "index.faiss"
    payloads = [bytes([i]) * 200_000 for i in range(8)]
    errors: list[BaseException] = []

    def write(data: bytes) -> None:
        try:
            write_bytes(target, data, "the index")
        except BaseException as err:  # collected for the assertion below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert target.read_bytes() in payloads  # one writer's whole content, not a mix
    assert [p.name for p in tmp_path.iterdir()] == ["index.faiss"]


def test_stale_temps_are_removed_but_a_write_in_progress_is_left_alone(tmp_path: Path) -> None:
    stale = tmp_path / ".index.faiss.k3j2.tmp"
    fresh = tmp_path / ".index.faiss.a9x1.tmp"
    kept = tmp_path / "index.faiss"
    for p in (stale, fresh, kept):
        p.write_bytes(b"x")
    os.utime(stale, (1_000_000, 1_000_000))
    os.utime(kept, (1_000_000, 1_000_000))
    assert remove_stale_temps(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, kept.name]


def test_a_temp_whose_writer_was_killed_is_removed_at_once(tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".index.faiss.{child.stdout.strip()}-ab12.tmp"  # that process has exited
    alive = tmp_path / f".index.faiss.{os.getppid()}-cd34.tmp"  # a live writer in another process
    for p in (dead, alive):
        p.write_bytes(b"x")
    assert remove_stale_temps(tmp_path) == [dead]
    assert alive.exists()


def test_a_folder_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "export"
    with pytest.raises(RuntimeError), atomic_folder(target, "the export") as scratch:
        (scratch / "image.onnx").write_bytes(b"one tower")
        raise RuntimeError("the check failed")
    assert list(tmp_path.iterdir()) == []  # neither the target nor the scratch folder
    with atomic_folder(target, "the export") as scratch:
        assert scratch.parent == tmp_path and scratch.name.startswith(".export.") and not target.exists()
        (scratch / "image.onnx").write_bytes(b"one tower")
        (scratch / "text.onnx").write_bytes(b"the other")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
    assert sorted(p.name for p in target.iterdir()) == ["image.onnx", "text.onnx"]


def test_a_folder_is_never_renamed_over_another(tmp_path: Path) -> None:
    target = tmp_path / "export"
    with atomic_folder(target, "the export") as scratch:
        (scratch / "first").write_bytes(b"1")
    with pytest.raises(EnvironmentFault, match="the export"), atomic_folder(target, "the export") as scratch:
        (scratch / "second").write_bytes(b"2")
    assert [p.name for p in target.iterdir()] == ["first"] and sorted(p.name for p in tmp_path.iterdir()) == ["export"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_a_new_file_gets_the_usual_permissions_and_a_replaced_one_keeps_its_own(tmp_path: Path) -> None:
    """An exported CSV or sidecar is as readable as any file the user makes (0666 less the umask), not
    private to its owner; a file replaced keeps the permissions someone gave it."""
    previous = os.umask(0o022)
    try:
        write_text(tmp_path / "export.csv", "a,b\n", "the export")
        kept = tmp_path / "settings.json"
        kept.write_text("{}")
        kept.chmod(0o640)
        write_text(kept, '{"a": 1}', "the settings")
    finally:
        os.umask(previous)
    assert (tmp_path / "export.csv").stat().st_mode & 0o777 == 0o644
    assert kept.stat().st_mode & 0o777 == 0o640 and kept.read_text() == '{"a": 1}'
