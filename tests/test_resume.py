"""A run killed at any moment (kill -9) resumes where it stopped: nothing duplicated, nothing lost
beyond the batches in flight, the database and the vector index consistent."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_photo
from test_library import open_library

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import sys, time
sys.path.insert(0, {tests!r})
from pathlib import Path
from photosift.core.settings import Settings
from conftest import FakeEncoder
from test_library import open_library

class SlowEncoder(FakeEncoder):
    def encode_images(self, batch):
        time.sleep(0.1)
        return super().encode_images(batch)

library = open_library(Path({home!r}), SlowEncoder(), Settings(batch_size=4, decode_workers=2))
library.add_folder(Path({photos!r}))
library.scan()
library.index()
print("finished")
"""


def embedded_count(database: Path) -> int:
    try:
        with sqlite3.connect(database) as conn:
            return int(conn.execute("select count(*) from embeddings").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_kill_during_indexing_then_resume(home: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    colours = ["red", "green", "blue", "yellow"]
    for i in range(60):
        make_photo(photos / f"{i:03}.jpg", colours[i % 4])
    script = CHILD.format(tests=str(REPO / "tests"), home=str(home), photos=str(photos))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while embedded_count(home / "catalog.sqlite3") < 12 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    out, _ = child.communicate()
    assert b"finished" not in out, "the child finished before it could be killed; make it slower"

    done_before = embedded_count(home / "catalog.sqlite3")
    assert 12 <= done_before < 60
    library = open_library(home)
    status = library.status()
    assert (status.embedded, status.pending, status.photos) == (done_before, 60 - done_before, 60)
    assert len(library.vector_index()) == done_before  # stale or missing index rebuilt from SQLite

    report = library.index()
    assert report.embedded == 60 - done_before
    assert library.encoder.image_forward_count == 60 - done_before  # type: ignore[attr-defined]
    assert len(library.vector_index()) == 60 and library.status().embedded == 60
    library.close()
