"""Two processes on one library (the app beside the CLI, or two CLI runs). Two `Library` objects on two
catalogs of one data folder stand for two processes where that is enough; one test runs the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import TEST_MODELS, FakeEncoder, make_colour_classes
from test_library import fake_spec, names, open_library

from photosift.core.errors import Cancelled
from photosift.core.library import Library
from photosift.core.library_lock import WAIT_STAGE
from photosift.core.progress import CancelToken, Progress
from photosift.core.protocol import EXIT_INTERRUPTED
from photosift.core.vindex import VectorIndex


def saved_vectors(library: Library) -> int | None:
    """How many vectors the index file holds, if its stamp says it is the catalog's current state."""
    generation = library.catalog.generation(library.model_id)
    loaded = VectorIndex.load(library.index_path, f"{library.spec.key}:{generation}", library.spec.embed_dim)
    return None if loaded is None else len(loaded)


def test_a_process_never_saves_its_stale_index_over_another_ones(home: Path, tmp_path: Path) -> None:
    """Issue 21: `photosift watch` ran while another process indexed a new folder; on stopping, the watcher
    saved its smaller index over the file with a stamp saying it was current."""
    watcher = open_library(home)
    watcher.add_folder(make_colour_classes(tmp_path / "first", per_class=2))
    watcher.scan()
    watcher.index()
    other = open_library(home)
    other.add_folder(make_colour_classes(tmp_path / "second", per_class=3))
    other.scan()
    other.index()
    other.close()
    watcher.close()  # the old code saved 6 vectors here, stamped as current
    reopened = open_library(home)
    assert saved_vectors(reopened) == reopened.status().embedded == 15
    assert all(n.startswith("red") for n in names(reopened.search("red", limit=5)))
    reopened.close()


def test_a_process_sees_photos_another_indexed_meanwhile(home: Path, tmp_path: Path) -> None:
    app = open_library(home)
    app.add_folder(make_colour_classes(tmp_path / "first", per_class=2))
    app.scan()
    app.index()
    cli = open_library(home)
    cli.add_folder(make_colour_classes(tmp_path / "second", per_class=1))
    cli.scan()
    cli.index()
    cli.close()
    top = app.search("blue", limit=3).hits
    assert len(app.vector_index()) == 9 and {Path(h.path).parent.parent.name for h in top} == {"first", "second"}
    app.close()


def test_a_paused_model_switch_never_saves_deleted_photos_as_current(home: Path, tmp_path: Path) -> None:
    """Issue 14: a switch paused and resumed saved 9 vectors for 8 photos under a current stamp."""
    photos = make_colour_classes(tmp_path / "photos", per_class=3)
    current = open_library(home)
    current.add_folder(photos)
    current.scan()
    current.index()
    target = current.with_model(fake_spec("another-model"), FakeEncoder())
    target.index()  # the switch's first session: its index is in memory
    next((photos / "red").iterdir()).unlink()
    current.scan()  # the library still searching deletes a photo meanwhile
    target.index()  # the switch resumes: nothing to embed
    assert saved_vectors(target) == target.status().embedded == 8
    assert len(target.vector_index()) == 8
    current.close()


def test_the_index_file_is_written_only_when_it_changed(home: Path, tmp_path: Path) -> None:
    library = open_library(home)
    library.add_folder(make_colour_classes(tmp_path / "photos", per_class=2))
    library.scan()
    library.index()
    before = library.index_path.stat().st_mtime_ns
    os.utime(library.index_path, ns=(before - 10**9, before - 10**9))
    library.scan()
    library.index()  # nothing new: the old code rewrote the whole file (460 MB at 100k photos)
    library.close()
    assert library.index_path.stat().st_mtime_ns == before - 10**9


def test_a_second_run_waits_for_the_first_and_says_so(home: Path, tmp_path: Path) -> None:
    first, second = open_library(home), open_library(home)
    second.add_folder(make_colour_classes(tmp_path / "photos", per_class=1))
    second.scan()
    reports: list[Progress] = []
    cancel = CancelToken()

    def record(report: Progress) -> None:
        reports.append(report)
        if report.stage == WAIT_STAGE:
            cancel.cancel()

    with first._run_lock.held("indexing", lambda _: None, None):
        with pytest.raises(Cancelled):
            second.index(record, cancel)
        waiting = threading.Thread(target=second.index)
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive()  # it waits while the first run holds the library
    waiting.join(timeout=30)
    assert not waiting.is_alive() and second.status().embedded == 3
    assert reports[0].stage == WAIT_STAGE and f"pid {os.getpid()}" in reports[0].message
    first.close()
    second.close()


TINY = str(TEST_MODELS / "tiny.json")


def photosift(home: Path, *args: str) -> subprocess.Popen[str]:
    """Start a `photosift` command in a process of its own on the data folder `home`."""
    env = {**os.environ, "PHOTOSIFT_HOME": str(home), "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "photosift.app", *args, "--model", TINY]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen[str]) -> str:
    """Wait for `process`; its output, once it has exited 0."""
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return out


@pytest.fixture
def ctrl_c_handled() -> Iterator[None]:
    """Ctrl-C handled in this process while a test runs, so that the processes it starts begin with the
    default: a test run in the background inherits Ctrl-C ignored, and `photosift watch` would then ignore
    the SIGINT that stops it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def watching(watch: subprocess.Popen[str]) -> None:
    """Return once `photosift watch` has caught up and watches (it says so)."""
    assert watch.stdout is not None
    for line in iter(watch.stdout.readline, ""):
        if line.startswith("Watching"):
            return
    raise AssertionError(f"photosift watch ended: {watch.communicate()}")


def agree(library: Library, photos: int) -> None:
    """Catalog, vector index (in memory and saved) and search agree on the library's `photos` photos."""
    status = library.status()
    assert (status.photos, status.embedded, status.pending) == (photos, photos, 0)
    ids, _ = library.catalog.embeddings(library.model_id)
    assert np.array_equal(np.sort(ids), library.vector_index().ids())
    assert {h.photo_id for h in library.search("a photo", limit=photos + 5).hits} == set(ids.tolist())


def test_the_app_and_cli_processes_edit_one_library_at_once(home: Path, tmp_path: Path) -> None:
    """The fast sibling of the session below: the app's library indexes, tags, files albums and switches
    model while `photosift albums` processes edit the same catalog; neither loses the other's work."""
    app = open_library(home)
    app.add_folder(make_colour_classes(tmp_path / "photos", per_class=3))
    app.scan()
    red = sorted(p for p in (tmp_path / "photos" / "red").iterdir())
    finished(photosift(home, "albums", "create", "trip"))
    cli = photosift(home, "albums", "add", "trip", *map(str, red))
    app.index()  # while the CLI adds photos to its album
    app.tags.add("warm", ["red"])
    app.albums.create("mine")
    app.albums.add("mine", sorted(app.photo_ids())[:2])
    switched = app.with_model(fake_spec("another-model"), FakeEncoder())
    switched.index()
    finished(cli)
    listed = json.loads(finished(photosift(home, "albums", "list", "--json")))
    assert {album["name"]: album["photo_count"] for album in listed} == {"trip": 3, "mine": 2}
    assert len(app.album_photo_ids("trip")) == 3 and app.tags.tag("warm").name == "warm"
    agree(app, 9)
    agree(switched, 9)
    app.close()


@pytest.mark.slow  # several CLI processes with the tiny real model, minutes on 2 cores; the contracts are above
@pytest.mark.timeout(1200)
def test_the_app_and_the_cli_share_one_data_folder_through_a_whole_session(
    home: Path, tmp_path: Path, ctrl_c_handled: None
) -> None:
    """The app's library (built as the window builds it) and `photosift` processes on one data folder at
    once: two indexing runs, `photosift watch` picking up new photos while the app tags, files albums and
    switches model, and the CLI's own album and search. Afterwards catalog, index and search agree."""
    from photosift.app.main import build_library
    from photosift.core.models.encoder import Encoder
    from photosift.core.models.registry import ModelRegistry
    from photosift.core.settings import Paths, Settings

    paths = Paths(home)
    cli_index = photosift(home, "index", str(make_colour_classes(tmp_path / "cli", per_class=4)), "--no-ocr")
    app = build_library(paths, Settings(), TINY)
    app.add_folder(make_colour_classes(tmp_path / "here", per_class=4))
    app.scan()
    app.index()  # at once with the CLI's run: one waits for the other
    finished(cli_index)
    watch = photosift(home, "watch", "--no-ocr")
    watching(watch)
    make_colour_classes(tmp_path / "here" / "new", per_class=2)  # the watcher indexes these
    app.tags.add("warm", ["a red photo"])
    app.albums.create("picks")
    app.albums.add("picks", sorted(app.photo_ids())[:5])
    finished(photosift(home, "albums", "create", "cli picks"))
    wide_spec = ModelRegistry(paths).resolve(str(TEST_MODELS / "tiny-wide.json"))
    wide = app.with_model(wide_spec, Encoder(wide_spec, paths, "cpu"))
    wide.index()  # the model switch, while the watcher embeds with the other model
    deadline = time.monotonic() + 300
    while app.status().embedded < 30 and time.monotonic() < deadline:
        time.sleep(0.5)
    found = json.loads(finished(photosift(home, "search", "a photo", "--json", "--limit", "50")))
    watch.send_signal(signal.SIGINT)
    watch.communicate(timeout=120)
    assert watch.returncode == EXIT_INTERRUPTED  # Ctrl-C: it stopped and saved its index
    wide.scan()
    wide.index()  # the switch catches up with the photos the watcher found meanwhile
    agree(app, 30)
    agree(wide, 30)
    assert len(found["hits"]) == 30 and len(app.album_photo_ids("picks")) == 5
    assert {a.name for a in app.albums.list_all()} == {"picks", "cli picks"}
    app.close()
    reopened = build_library(paths, Settings(), TINY)
    assert reopened.status().index.saved_and_current and saved_vectors(reopened) == 30
    reopened.close()


def test_the_wait_is_a_sentence_in_the_terminal_and_the_window(capsys: pytest.CaptureFixture[str]) -> None:
    from photosift.app.gui.widgets.progress_status import progress_text
    from photosift.app.progress import TqdmProgress

    waiting = Progress(WAIT_STAGE, 0, None, message="Waiting for another Photosift process (pid 7) that is indexing.")
    with TqdmProgress() as progress:
        progress(waiting)
    assert "Waiting for another Photosift process (pid 7)" in capsys.readouterr().err
    assert progress_text(waiting) == waiting.message
