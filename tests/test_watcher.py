"""The folder watcher reports changed folders once, after a quiet period, with native events and polling."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.watcher import FolderWatcher
from tests.conftest import make_photo


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


def test_non_photo_files_do_not_trigger(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    changed = threading.Event()
    watcher = FolderWatcher([str(photos)], lambda _: changed.set(), debounce_s=0.1)
    watcher.start()
    try:
        (photos / "notes.txt").write_text("not a photo")
        assert not changed.wait(1.0)
    finally:
        watcher.stop()
