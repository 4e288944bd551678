"""Photos are sacred, exports included: every export target is checked with links resolved, and a full
session of commands leaves every photo folder byte-for-byte and stat-for-stat as it was."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import TEST_MODELS, make_colour_classes, make_photo
from tag_helpers import ColourWordEncoder, ids_of, open_tag_library
from test_library import fake_spec

from photosift.core.errors import UserError
from photosift.core.library import Library, LibraryEncoder
from photosift.core.models.spec import ModelSpec
from photosift.core.tags.exchange import export_json, export_xmp, sidecar_paths
from photosift.core.watcher import FolderWatcher

TINY = str(TEST_MODELS / "tiny.json")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A watched folder whose `linked` subfolder is a link to a folder elsewhere (the scanner follows it)."""
    root = make_colour_classes(tmp_path / "photos", per_class=2)
    make_photo(tmp_path / "elsewhere" / "trip.jpg", "blue")
    (root / "linked").symlink_to(tmp_path / "elsewhere")
    return root


@pytest.fixture
def library(home: Path, photos: Path) -> Iterator[Library]:
    lib = open_tag_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    lib.tags.add("red", ["red"], examples=sorted(ids_of(lib, photos / "red"))[:1])
    yield lib
    lib.close()


def test_exports_through_a_link_into_a_photo_folder_are_refused(library: Library, photos: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "shortcut").symlink_to(photos / "red")
    with pytest.raises(UserError, match=r"never writes into photo folders.*inside the photo folder"):
        library.albums.export(tmp_path / "out" / "shortcut" / "albums.json")
    with pytest.raises(UserError, match="never writes into photo folders"):
        export_json(library.tags, tmp_path / "out" / "shortcut" / "tags.json")
    assert not (photos / "red" / "albums.json").exists() and not (photos / "red" / "tags.json").exists()


def test_exports_into_a_folder_linked_into_a_photo_folder_are_refused(library: Library, tmp_path: Path) -> None:
    """`elsewhere` is not watched, but its photos are the library's through the link `photos/linked`."""
    with pytest.raises(UserError, match=r"inside the photo folder .*linked \(a link to .*elsewhere\)"):
        export_json(library.tags, tmp_path / "elsewhere" / "tags.json")
    with pytest.raises(UserError, match="never writes into photo folders"):
        library.albums.export(tmp_path / "elsewhere" / "sub" / "albums.json")
    with pytest.raises(UserError, match="never writes into photo folders"):
        export_xmp(library.tags, tmp_path / "elsewhere")
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["trip.jpg"]


def test_a_sidecar_folder_containing_a_photo_folder_is_refused(library: Library, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="contains the photo folder"):
        export_xmp(library.tags, tmp_path)
    assert library.albums.export(tmp_path / "albums.json") == 0  # a single file beside the folder is fine


def test_sidecars_mirror_paths_below_their_watched_folder_not_absolute_paths(tmp_path: Path) -> None:
    out = tmp_path / "out"
    watched = ["/home/ann/Photos", "/mnt/old/Photos", "/srv"]
    paths = {1: "/home/ann/Photos/2019/a.jpg", 2: "/mnt/old/Photos/a.jpg", 3: "/srv/x/b.png", 4: "/tmp/gone.jpg"}
    assert sidecar_paths(out, paths, watched) == {
        1: out / "Photos" / "2019" / "a.jpg.xmp",
        2: out / "Photos (2)" / "a.jpg.xmp",
        3: out / "srv" / "x" / "b.png.xmp",
    }


def snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under `folder` (links followed): relative path -> (size, mtime_ns, sha256)."""
    found = {}
    for dirpath, _, names in os.walk(folder, followlinks=True):
        for name in names:
            path = os.path.join(dirpath, name)
            info = os.stat(path)
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            found[os.path.relpath(path, folder)] = (info.st_size, info.st_mtime_ns, digest)
    return found


def run_session(lib: Library, photos: Path, exports: Path) -> None:
    """Every command a person runs on a library, as the front ends call them (the fake colour model)."""
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    red = sorted(ids_of(lib, photos / "red"))
    lib.tags.add("red", ["red"], examples=red[:1])
    lib.tags.accept([(red[1], "red")])
    lib.retag()
    assert lib.search("red", limit=3).hits and lib.similar(red[0]).hits
    lib.albums.create("picks")
    lib.albums.add("picks", red)
    lib.albums.create_smart("reds", "red")
    lib.albums.export(exports / "albums.json")
    export_json(lib.tags, exports / "tags.json")
    export_xmp(lib.tags, exports / "xmp")
    lib.scan()
    lib.index()


def switch_model(lib: Library, spec: ModelSpec, encoder: LibraryEncoder) -> None:
    """Embed every photo with another model and search with it, as the window's model switch does."""
    with lib.with_model(spec, encoder) as switched:
        assert switched.index().embedded == switched.status().photos
        assert len(switched.search("a photo", limit=3).hits) == 3


@contextmanager
def untouched(photos: Path, tmp_path: Path) -> Iterator[None]:
    """Assert that what runs inside writes nothing into the photo folders: no watcher event, and every
    file (through links too) has the path, size, mtime and content it had before."""
    before = {folder: snapshot(folder) for folder in (photos, tmp_path / "elsewhere")}
    changed = threading.Event()
    watcher = FolderWatcher([str(photos)], lambda _: changed.set(), debounce_s=0.05)
    watcher.start()
    try:
        yield
    finally:
        watcher.stop()
    assert not changed.is_set()  # nothing Photosift did wrote into a watched folder
    assert {folder: snapshot(folder) for folder in before} == before


def test_a_session_of_commands_leaves_every_photo_folder_untouched(home: Path, photos: Path, tmp_path: Path) -> None:
    with untouched(photos, tmp_path), open_tag_library(home) as lib:
        run_session(lib, photos, tmp_path / "exports")
        switch_model(lib, fake_spec("another-model"), ColourWordEncoder())
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["albums.json", "tags.json", "xmp"]


@pytest.mark.slow  # about 20 CPU-s: the trainer, and the tag vocabulary encoded by a real model; see above
def test_a_fine_tune_on_a_photo_folder_leaves_it_untouched(home: Path, photos: Path, tmp_path: Path) -> None:
    """The trainer reads the photo folder as its labelled classes (red, green, blue; `linked` has too few)
    and writes only under the data folder; the library then switches to the tuned model."""
    from photosift.core.models.encoder import Encoder  # torch: only for this test
    from photosift.core.models.registry import ModelRegistry
    from photosift.training.__main__ import main as training_main

    train = ["--data", str(photos), "--method", "gpr-ft", "--epochs", "1", "--name", "tuned", "--model", TINY]
    with untouched(photos, tmp_path), open_tag_library(home) as lib:
        run_session(lib, photos, tmp_path / "exports")
        assert training_main([*train, "--workers", "0", "--batch-size", "4", "--min-images-per-class", "2"]) == 0
        tuned = ModelRegistry(lib.paths).resolve("tuned")
        switch_model(lib, tuned, Encoder(tuned, lib.paths, "cpu"))
    assert (home / "runs" / "tuned" / "config.json").is_file()
