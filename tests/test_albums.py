"""Albums: manual ones filled by hand, smart ones that keep up as photos arrive, the album: filter,
photos leaving albums when their files go, export, and the `photosift albums` command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_MODELS, make_colour_classes, make_photo
from sqlalchemy import func, select
from test_library import open_library

from photosift.app.cli import run
from photosift.core.catalog import schema as s
from photosift.core.errors import AlbumError, QueryError, UserError
from photosift.core.library import Library
from photosift.core.protocol import EXIT_OK, EXIT_USER


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_colour_classes(tmp_path / "photos", per_class=3)


@pytest.fixture
def library(home: Path, photos: Path) -> Iterator[Library]:
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    yield lib
    lib.close()


def ids_of(library: Library, *names: str) -> list[int]:
    by_name = {Path(hit.path).stem: hit.photo_id for hit in library.search("folder:photos", limit=100).hits}
    return [by_name[name] for name in names]


def stems(library: Library, text: str) -> set[str]:
    return {Path(hit.path).stem for hit in library.search(text, limit=100).hits}


def test_manual_album_add_remove_rename_delete(library: Library, photos: Path) -> None:
    albums = library.albums
    albums.create("Summer 2023")
    assert albums.add("summer 2023", ids_of(library, "red-0", "blue-1")) == 2
    assert albums.add("Summer 2023", ids_of(library, "red-0", "green-2")) == 1  # red-0 was in already
    assert albums.remove("Summer 2023", ids_of(library, "blue-1", "blue-2")) == 1
    assert [(a.name, a.kind, a.photo_count) for a in albums.list_all()] == [("Summer 2023", "manual", 2)]
    assert stems(library, 'album:"Summer 2023"') == {"red-0", "green-2"}
    assert stems(library, 'red album:"summer 2023"') == {"red-0", "green-2"}  # ranked within the album
    assert albums.rename("summer 2023", "Holidays").name == "Holidays"
    albums.delete("HOLIDAYS")
    assert albums.list_all() == [] and library.status().photos == 9
    assert all(p.is_file() for p in photos.rglob("*.jpg"))


def test_album_names_and_kinds_are_checked(library: Library) -> None:
    library.albums.create("Trips")
    library.albums.create_smart("Reds", "red")
    for bad in ("trips", "  ", 'say "cheese"'):
        with pytest.raises(AlbumError):
            library.albums.create(bad)
    with pytest.raises(AlbumError, match="smart album"):
        library.albums.add("Reds", ids_of(library, "red-0"))
    with pytest.raises(AlbumError, match="no photo #999"):
        library.albums.add("Trips", [999])
    with pytest.raises(AlbumError, match="no album named"):
        library.albums.page("Nowhere")
    with pytest.raises(QueryError, match="position 11"):
        library.albums.create_smart("Broken", "red after:2023-13")


def test_smart_album_keeps_up_as_photos_arrive(library: Library, photos: Path) -> None:
    reds = library.albums.create_smart("Reds", "red")
    recent = library.albums.create_smart("New folder", "folder:new")
    assert (reds.photo_count, recent.photo_count) == (3, 0)
    for i in range(2):
        make_photo(photos / "new" / f"new-red-{i}.jpg", "red")
    make_photo(photos / "new" / "new-green.jpg", "green")
    library.scan()
    library.index()
    assert {a.name: a.photo_count for a in library.albums.list_all()} == {"New folder": 3, "Reds": 5}
    assert stems(library, 'album:"reds"') == {"red-0", "red-1", "red-2", "new-red-0", "new-red-1"}
    page = library.albums.page("Reds", limit=10)
    assert all(hit.score is not None and hit.score > 0.8 for hit in page.hits)


def test_smart_album_threshold_and_nesting(library: Library) -> None:
    library.albums.create_smart("Everything", "red", threshold=-1.0)
    library.albums.create_smart("Nothing", "red", threshold=1.5)
    library.albums.create_smart("Reds of a gone album", "red album:Gone")
    library.albums.create_smart("Loop", "album:Loop red")
    counts = {a.name: (a.photo_count, a.problem) for a in library.albums.list_all()}
    assert counts["Everything"] == (9, None) and counts["Nothing"] == (0, None)
    assert counts["Loop"][0] is None and "includes itself" in str(counts["Loop"][1])
    assert counts["Reds of a gone album"] == (None, 'There is no album named "Gone".')  # reported, not raised
    with pytest.raises(QueryError, match="includes itself"):
        library.search("album:Loop")


def test_deleted_photos_leave_albums(library: Library, photos: Path) -> None:
    library.albums.create("Picks")
    library.albums.add("Picks", ids_of(library, "red-0", "green-0"))
    (photos / "red" / "red-0.jpg").unlink()
    library.scan()
    assert library.albums.get("Picks").photo_count == 1
    with library.catalog.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(s.album_photos)).scalar_one() == 1


def test_export_writes_json_only_outside_photo_folders(library: Library, photos: Path, tmp_path: Path) -> None:
    library.albums.create("Picks")
    library.albums.add("Picks", ids_of(library, "blue-0"))
    library.albums.create_smart("Greens", "green", threshold=0.5)
    assert library.albums.export(tmp_path / "albums.json") == 2
    data = json.loads((tmp_path / "albums.json").read_text(encoding="utf-8"))
    exported = {a["name"]: a for a in data["albums"]}
    assert data["format"] == "photosift-albums" and exported["Picks"]["photos"] == [str(photos / "blue" / "blue-0.jpg")]
    assert exported["Greens"]["query"] == "green" and len(exported["Greens"]["photos"]) == 3
    with pytest.raises(UserError, match="never writes into photo folders"):
        library.albums.export(photos / "red" / "albums.json")
    assert not (photos / "red" / "albums.json").exists()


def test_albums_command_line(home: Path, photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny = ["--model", str(TEST_MODELS / "tiny.json")]
    assert run(["index", str(photos), *tiny]) == EXIT_OK
    red = str(photos / "red" / "red-0.jpg")
    for argv in (["create", "Picks"], ["add", "Picks", red, str(photos / "blue" / "blue-1.jpg")]):
        assert run(["albums", *argv, *tiny]) == EXIT_OK
    assert run(["albums", "create", "Blues", "--smart", "folder:blue", *tiny]) == EXIT_OK
    assert run(["albums", "remove", "Picks", red, *tiny]) == EXIT_OK
    capsys.readouterr()
    assert run(["albums", "list", "--json", *tiny]) == EXIT_OK
    listed = {a["name"]: a["photo_count"] for a in json.loads(capsys.readouterr().out)}
    assert listed == {"Blues": 3, "Picks": 1}
    assert run(["albums", "show", "Blues", "--json", *tiny]) == EXIT_OK
    assert len(json.loads(capsys.readouterr().out)["hits"]) == 3
    assert run(["search", 'album:"Picks"', *tiny]) == EXIT_OK
    assert "blue-1.jpg" in capsys.readouterr().out
    assert run(["albums", "rename", "Picks", "Best", *tiny]) == EXIT_OK
    assert run(["albums", "export", str(tmp_path / "out.json"), *tiny]) == EXIT_OK
    assert len(json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["albums"]) == 2
    assert run(["albums", "delete", "Best", *tiny]) == EXIT_OK
    capsys.readouterr()
    assert run(["albums", "add", "Blues", red, *tiny]) == EXIT_USER
    assert "smart album" in capsys.readouterr().err
    assert run(["albums", "create", "X", "--threshold", "0.3", *tiny]) == EXIT_USER


def test_albums_autotag_suggests_and_accepts_for_every_photo(
    home: Path, photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny = ["--model", str(TEST_MODELS / "tiny.json")]
    assert run(["index", str(photos), *tiny]) == EXIT_OK
    assert run(["albums", "create", "Blues", "--smart", "folder:blue", *tiny]) == EXIT_OK
    capsys.readouterr()
    assert run(["albums", "autotag", "Blues", "--json", *tiny]) == EXIT_OK
    suggestions = json.loads(capsys.readouterr().out)
    assert all(0 < s["share"] <= 1 for s in suggestions)
    assert run(["albums", "autotag", "Blues", "--accept", "no-such-tag", *tiny]) == EXIT_USER
    assert run(["albums", "autotag", "Blues", "--accept", "beach", *tiny]) == EXIT_OK
    capsys.readouterr()
    assert run(["search", "tag:beach", "--json", *tiny]) == EXIT_OK
    found = [Path(h["path"]).parent.name for h in json.loads(capsys.readouterr().out)["hits"]]
    assert found.count("blue") == 3  # accepted labels always carry the tag, whatever the scores say
