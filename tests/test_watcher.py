"""The folder watcher reports changed folders once, after a quiet period, with native events and polling."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import make_photo

from photosift.core.watcher import FolderWatcher, is_network_folder, mount_types


@pytest.mark.parametrize("polling", [False, True], ids=["native", "polling"])
def test_changes_are_reported_once_per_burst(tmp_path: Path, polling: bool) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    reported: list[set[str]] = []
    changed = threading.Event()

    def on_change(folders: set[str]) -> None:
        reported.append(folders)
        changed.set()

    watcher = FolderWatcher([str(photos)], on_change, polling=polling, debounce_s=0.3, poll_interval_s=0.2)
    watcher.start()
    try:
        for i in range(5):
            make_photo(photos / f"{i}.jpg")
        (photos / "notes.txt").write_text("ignored")
        assert changed.wait(10), "no change reported"
    finally:
        watcher.stop()
    assert reported[0] == {str(photos)}
    assert len(reported) == 1


@pytest.mark.parametrize("polling", [False, True], ids=["native", "polling"])
def test_non_photo_files_do_not_trigger(tmp_path: Path, polling: bool) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    changed = threading.Event()
    watcher = FolderWatcher(
        [str(photos)], lambda _: changed.set(), polling=polling, debounce_s=0.1, poll_interval_s=0.1
    )
    watcher.start()
    try:
        (photos / "notes.txt").write_text("not a photo")
        assert not changed.wait(1.0)
        make_photo(photos / "a.jpg")  # the watcher was listening all along: a photo is reported
        assert changed.wait(10), "the watcher reports nothing at all"
    finally:
        watcher.stop()


def test_network_shares_are_recognised(tmp_path: Path) -> None:
    table = tmp_path / "mounts"
    table.write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        "server:/photos /mnt/nas nfs4 rw 0 0\n"
        "//pc/share /media/my\\040share cifs rw 0 0\n"
        "/dev/sdb1 /mnt/nas/local ext4 rw 0 0\n",
        encoding="utf-8",
    )
    mounts = mount_types(table)
    assert mounts["/media/my share"] == "cifs"
    assert is_network_folder("/mnt/nas/2023", mounts) and is_network_folder("/media/my share", mounts)
    assert not is_network_folder("/mnt/nas/local/x", mounts)  # the deepest mount decides
    assert not is_network_folder("/home/me/Pictures", mounts) and not is_network_folder("/mnt/nasty", mounts)
    assert is_network_folder("\\\\server\\photos", {}) and is_network_folder("//server/photos", {})
    assert mount_types(tmp_path / "missing") == {}


def test_one_thread_calls_back_however_many_events_arrive(tmp_path: Path) -> None:
    """A storm of file events moves one deadline; it used to start (and cancel) a timer thread per event."""
    photos = tmp_path / "photos"
    photos.mkdir()
    callers: list[int] = []
    changed = threading.Event()

    def on_change(_: set[str]) -> None:
        callers.append(threading.get_ident())
        changed.set()

    watcher = FolderWatcher([str(photos)], on_change, debounce_s=0.2)
    started = threading.Thread.start
    counted: list[str] = []

    def counting_start(thread: threading.Thread) -> None:
        counted.append(thread.name)
        started(thread)

    watcher.start()
    try:
        for burst in range(2):
            changed.clear()
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(threading.Thread, "start", counting_start)
                for i in range(50):
                    (photos / f"{burst}-{i}.jpg").write_bytes(b"x")
                assert changed.wait(10), "no change reported"
    finally:
        watcher.stop()
    assert counted == [] and len(callers) == 2 and callers[0] == callers[1]


def test_stop_waits_for_a_callback_in_progress(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    inside, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow(_: set[str]) -> None:
        inside.set()
        release.wait(10)
        finished.set()

    watcher = FolderWatcher([str(photos)], slow, debounce_s=0.05)
    watcher.start()
    make_photo(photos / "a.jpg")
    assert inside.wait(10)
    stopper = threading.Thread(target=watcher.stop)
    stopper.start()
    stopper.join(0.3)
    assert stopper.is_alive()  # still waiting for the callback
    release.set()
    stopper.join(10)
    assert not stopper.is_alive() and finished.is_set()
