"""`photosift status`, `tag list` and `albums list` answer from the catalog opened read-only
(app.cli.quick, core.catalog.readonly) exactly as the full path through the library does, and leave to
that path every catalog they cannot read as it is."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import TINY_SPEC, FakeEncoder, make_photo

from photosift.app.cli import albums as albums_cli
from photosift.app.cli import library as library_cli
from photosift.app.cli import quick, run
from photosift.app.cli import tags as tags_cli
from photosift.core.catalog import Catalog
from photosift.core.catalog.readonly import head_revision, open_read_only
from photosift.core.library import Library
from photosift.core.models.spec import load_spec
from photosift.core.settings import Paths, Settings, save_settings


@pytest.fixture(scope="module")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library with indexed, failed and pending photos, a folder gone offline (its photo kept), a manual
    album and a custom tag with an example, its model selected as a spec file (the fake encoder's size).
    Made once: the tests only read it."""
    tmp_path = tmp_path_factory.mktemp("mixed")
    home = tmp_path / "home"
    spec_file = tmp_path / "fake.json"
    fake = {"name": "fake", "embed_dim": 4, "open_clip_config": str(TINY_SPEC.with_name("tiny-arch.json"))}
    spec_file.write_text(json.dumps(json.loads(TINY_SPEC.read_text()) | fake))
    photos, gone = tmp_path / "photos", tmp_path / "gone"
    for i in range(3):
        make_photo(photos / f"red-{i}.jpg", "red")
    (photos / "broken.jpg").write_bytes(b"not a jpeg at all")
    make_photo(gone / "blue.jpg", "blue")
    paths = Paths(home)
    paths.ensure()
    settings = Settings(model=str(spec_file))
    save_settings(paths, settings)
    with Library(paths, settings, Catalog(paths.database), load_spec(spec_file), FakeEncoder()) as library:
        library.add_folder(photos)
        library.add_folder(gone)
        library.scan()
        library.index()
        (gone / "blue.jpg").unlink()
        gone.rmdir()
        make_photo(photos / "green.jpg", "green")
        make_photo(photos / "yellow.jpg", "yellow")
        library.scan()  # two photos found, not yet embedded: pending; the other folder offline
        library.albums.create("Trip")
        library.albums.add("Trip", [1, 2])
        library.tags.add("scarlet", ["red"], None, [1])
    return home


@pytest.fixture
def mixed_home(built_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PHOTOSIFT_HOME", str(built_home))
    return built_home


def output(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = run(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def full_path_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> tuple[int, str, str]:
    """What the command printed before it had a read-only path: the library opened in full."""
    with monkeypatch.context() as patch:
        patch.setattr(library_cli, "quick_status", lambda *_: None)
        patch.setattr(tags_cli, "quick_tags", lambda *_: None)
        patch.setattr(albums_cli, "quick_albums", lambda *_: None)
        return output(capsys, argv)


def test_the_mixed_library_has_what_status_must_show(mixed_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = output(capsys, ["status", "--json"])
    status = json.loads(out)
    assert code == 0 and (status["embedded"], status["failed"], status["pending"]) == (4, 1, 2)
    assert [f["status"] for f in status["folders"]] == ["offline", "ok"]


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["status", "--json"],
        ["tag", "list"],
        ["tag", "list", "--json"],
        ["tag", "list", "--group", "custom"],
        ["tag", "list", "--group", "no such group"],
        ["albums", "list"],
        ["albums", "list", "--json"],
    ],
)
def test_the_read_only_answer_is_the_full_paths(
    mixed_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    quick_answer = output(capsys, argv)
    assert quick_answer == full_path_output(capsys, monkeypatch, argv)


def test_each_command_answers_read_only_on_that_library(mixed_home: Path) -> None:
    paths = Paths(mixed_home)
    args = library_cli.argparse.Namespace(failures=False, device=None, model=None)
    settings = Settings(model=json.loads(paths.settings_file.read_text())["model"])
    assert quick.quick_status(args, paths, settings) is not None
    assert quick.quick_tags(paths) is not None
    assert [a.photo_count for a in quick.quick_albums(paths) or []] == [2]


def test_a_catalog_missing_or_at_another_revision_is_left_to_the_full_path(home: Path) -> None:
    database = Paths(home).database
    assert open_read_only(database, head_revision()) is None
    assert not database.exists()  # a read never creates the catalog
    Catalog(database).close()
    db = open_read_only(database, head_revision())
    assert db is not None
    db.close()
    assert open_read_only(database, "0001") is None  # an older catalog: the full path migrates it


def test_a_catalog_busy_with_a_write_is_left_to_the_full_path(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = Paths(home).database
    Catalog(database).close()
    writer = sqlite3.connect(database)
    writer.execute("PRAGMA journal_mode=DELETE")  # WAL lets readers past a writer; a rollback journal does not
    writer.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr("photosift.core.catalog.readonly.READ_TIMEOUT_S", 0.05)
    try:
        assert open_read_only(database, head_revision()) is None
    finally:
        writer.rollback()
        writer.close()


def test_a_smart_album_or_a_changed_vocabulary_is_left_to_the_full_path(built_home: Path, tmp_path: Path) -> None:
    paths = Paths(Path(shutil.copytree(built_home, tmp_path / "home")))
    with sqlite3.connect(paths.database) as db:
        db.execute("UPDATE tags SET prompts = '[\"an old prompt\"]' WHERE builtin AND name = 'beach'")
        db.execute("INSERT INTO albums (name, kind, query, created_at) VALUES ('Red', 'smart', 'red', '2026-01-01')")
    db.close()
    assert quick.quick_tags(paths) is None  # opening the library brings the built-in tags up to date
    assert quick.quick_albums(paths) is None  # a smart album counts by running its search


def test_a_read_that_fails_is_left_to_the_full_path(mixed_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(db: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr("photosift.core.catalog.readonly.album_rows", busy)
    assert quick.quick_albums(Paths(mixed_home)) is None
