"""Two processes on one library (the app beside the CLI, or two CLI runs). Two `Library` objects on two
catalogs of one data folder stand for two processes where that is enough; one test runs the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import TEST_MODELS, FakeEncoder, make_colour_classes
from test_library import fake_spec, names, open_library

from photosift.core.errors import Cancelled
from photosift.core.library import Library
from photosift.core.library_lock import WAIT_STAGE
from photosift.core.progress import CancelToken, Progress
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


@pytest.mark.slow  # two tiny real models on two cores; the waiting contract itself is tested above
def test_the_cli_and_a_library_index_one_data_folder_at_once(home: Path, tmp_path: Path) -> None:
    """A library in this process and `photosift index` in another, started together on one data folder:
    afterwards catalog, index file and search agree."""
    tiny = str(TEST_MODELS / "tiny.json")
    cli_photos = make_colour_classes(tmp_path / "cli", per_class=4)
    here_photos = make_colour_classes(tmp_path / "here", per_class=4)
    env = {**os.environ, "PHOTOSIFT_HOME": str(home)}
    command = [sys.executable, "-m", "photosift.app", "index", str(cli_photos), "--model", tiny]
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    from photosift.core.catalog import Catalog
    from photosift.core.models.encoder import Encoder
    from photosift.core.models.registry import ModelRegistry
    from photosift.core.settings import Paths, Settings

    paths = Paths(home)
    paths.ensure()
    spec = ModelRegistry(paths).resolve(tiny)
    library = Library(paths, Settings(), Catalog(paths.database), spec, Encoder(spec, paths, "cpu"))
    library.add_folder(here_photos)
    library.scan()
    library.index()
    _, err = child.communicate(timeout=300)
    assert child.returncode == 0, err.decode()
    library.scan()
    library.index()
    status = library.status()
    assert (status.photos, status.embedded, status.pending, len(library.vector_index())) == (24, 24, 0, 24)
    ids, _ = library.catalog.embeddings(library.model_id)
    assert np.array_equal(np.sort(ids), library.vector_index().ids())
    library.close()
    reopened = Library(paths, Settings(), Catalog(paths.database), spec, Encoder(spec, paths, "cpu"))
    assert reopened.status().index.saved_and_current and saved_vectors(reopened) == 24
    hits = reopened.search("a photo", limit=30).hits
    assert {Path(h.path).parent.parent.name for h in hits} == {"cli", "here"} and len(hits) == 24
    reopened.close()


def test_the_wait_is_a_sentence_in_the_terminal_and_the_window(capsys: pytest.CaptureFixture[str]) -> None:
    from photosift.app.gui.widgets.progress_status import progress_text
    from photosift.app.progress import TqdmProgress

    waiting = Progress(WAIT_STAGE, 0, None, message="Waiting for another Photosift process (pid 7) that is indexing.")
    with TqdmProgress() as progress:
        progress(waiting)
    assert "Waiting for another Photosift process (pid 7)" in capsys.readouterr().err
    assert progress_text(waiting) == waiting.message
