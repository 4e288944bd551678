"""Labelled sets from the library's own labels (folders, accepted tags, albums) on a real catalog with a fake
encoder, the checks the training wizard shows, and the manifest the trainer reads."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_colour_classes, make_photo
from tag_helpers import ids_of, tagged_colour_library

from photosift.core.errors import UserError
from photosift.core.library import Library
from photosift.core.training_sets import (
    LabelledClass,
    LabelledSet,
    check_labelled_set,
    labelled_set,
    read_manifest,
    write_manifest,
)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_colour_classes(tmp_path / "photos", per_class=5)


@pytest.fixture
def library(home: Path, photos: Path) -> Iterator[Library]:
    lib = tagged_colour_library(home, photos)
    yield lib
    lib.close()


def by_name(labelled: LabelledSet) -> dict[str, LabelledClass]:
    return {c.name: c for c in labelled.classes}


def messages(labelled: LabelledSet, min_per_class: int = 4) -> list[tuple[str, str | None, str]]:
    return [(w.severity, w.class_name, w.message) for w in check_labelled_set(labelled, min_per_class)]


def test_folders_are_the_subfolders_of_watched_folders(library: Library, photos: Path, tmp_path: Path) -> None:
    make_photo(photos / "red" / "nested" / "deep.jpg", "red")  # deeper photos belong to the top sub-folder
    make_photo(photos / "loose.jpg", "green")  # directly in the watched folder: a class named after it
    shutil.copy(photos / "green" / "green-0.jpg", photos / "blue" / "copy.jpg")  # one photo, two classes
    (photos / "blue" / "broken.jpg").write_bytes(b"not a jpeg")  # unreadable: left out
    make_photo(tmp_path / "more" / "red" / "extra.jpg", "red")  # same sub-folder name elsewhere: same class
    library.add_folder(tmp_path / "more")
    library.scan()
    library.index()

    labelled = labelled_set(library, "folders")
    classes = by_name(labelled)
    assert list(classes) == ["blue", "green", "photos", "red"]
    red = (
        ids_of(library, photos / "red")
        | ids_of(library, photos / "red" / "nested")
        | ids_of(library, tmp_path / "more" / "red")
    )
    assert set(classes["red"].photo_ids) == red and len(red) == 7
    green0 = library.catalog.photo_id_for_path(str(photos / "green" / "green-0.jpg"))
    assert green0 in classes["blue"].photo_ids and green0 in classes["green"].photo_ids
    assert labelled.shared_photo_ids() == {green0} and labelled.total == 5 + 5 + 1 + 7
    assert (len(classes["blue"].photo_ids), classes["blue"].unavailable) == (6, 1)
    assert [len(c.photo_ids) for c in labelled.exclusive().classes] == [5, 4, 1, 7]

    found = messages(labelled)
    assert [f[:2] for f in found] == [("warning", "photos"), ("warning", None), ("warning", None), ("warning", None)]
    assert "'photos' has 1 photo: it is left out" in found[0][2]
    assert "Left out: 1 photo with these labels" in found[1][2] and "could not be read" in found[1][2]
    assert "Left out: 1 photo in more than one class" in found[2][2]
    assert found[3][2].startswith("Only 16 photos to train on")  # the class of one photo is left out


def test_parent_folders_name_each_photos_class_by_the_folder_it_is_in(
    library: Library, photos: Path, tmp_path: Path
) -> None:
    """A set split above its classes (train/ants, val/ants) makes one class per name, not "train" and "val"."""
    split = tmp_path / "split"
    for part, colours in (("train", ("red", "blue")), ("val", ("red",))):
        for colour in colours:
            for i in range(3):
                make_photo(split / part / colour / f"{colour}-{i}.jpg", colour)
    make_photo(split / "loose.jpg", "green")  # directly in the watched folder: a class named after it
    library.add_folder(split)
    library.scan()
    library.index()

    classes = by_name(labelled_set(library, "parent-folders"))
    red = ids_of(library, split / "train" / "red") | ids_of(library, split / "val" / "red")
    assert set(classes["red"].photo_ids) == red | ids_of(library, photos / "red") and len(red) == 6
    assert set(classes["blue"].photo_ids) == ids_of(library, split / "train" / "blue") | ids_of(
        library, photos / "blue"
    )
    assert len(classes["split"].photo_ids) == 1 and "train" not in classes and "val" not in classes
    assert {"train", "val"} <= set(by_name(labelled_set(library, "folders")))  # the first level, as before


def test_offline_folders_photos_are_unavailable(library: Library, photos: Path) -> None:
    folder = library.folders()[0]
    library.catalog.set_folder_status(folder.id, "offline")
    labelled = labelled_set(library, "folders")
    assert all(c.photo_ids == () and c.unavailable == 5 for c in labelled.classes)
    assert messages(labelled)[0] == (
        "error",
        None,
        "No photos found to fine-tune on: a class is a sub-folder, an accepted tag or an album of two photos or more.",
    )


def test_tags_are_the_users_accepted_labels_only(library: Library, photos: Path) -> None:
    red, blue, green = (sorted(ids_of(library, photos / c)) for c in ("red", "blue", "green"))
    assert library.tagged_photo_ids("red") == set(red)  # automatic tags exist for every colour...
    library.tags.accept([(i, "red") for i in red[:3]] + [(blue[0], "blue")])
    library.tags.accept([(red[0], "blue")])  # the user sees both in one photo
    library.tags.reject([(green[0], "green")])
    labelled = labelled_set(library, "tags")  # ...but only the user's accepted labels are classes
    assert labelled.classes == (
        LabelledClass("blue", tuple(sorted([red[0], blue[0]]))),
        LabelledClass("red", tuple(red[:3])),
    )
    assert labelled.shared_photo_ids() == {red[0]}
    assert labelled.without(["RED"]).exclusive().classes[0].photo_ids == labelled.classes[0].photo_ids
    found = messages(labelled)  # judged as training sees it: 'blue' keeps one photo of its own
    assert found[0] == ("error", None, "Fine-tuning needs at least two classes; found only 'red'.")
    assert ("warning", "blue") in [f[:2] for f in found]


def test_albums_manual_and_smart_with_a_broken_one(library: Library, photos: Path) -> None:
    greens = sorted(ids_of(library, photos / "green"))
    library.albums.create("Greens")
    library.albums.add("Greens", greens[:4])
    library.albums.create("Empty")
    library.albums.create_smart("Reds", "red")
    library.albums.create_smart("Gone reds", "red album:Gone")
    labelled = labelled_set(library, "albums")
    classes = by_name(labelled)
    assert list(classes) == ["Empty", "Gone reds", "Greens", "Reds"]
    assert set(classes["Reds"].photo_ids) == ids_of(library, photos / "red")  # the search's photos now
    assert classes["Greens"].photo_ids == tuple(greens[:4]) and classes["Empty"].photo_ids == ()
    assert classes["Gone reds"] == LabelledClass("Gone reds", (), 0, 'There is no album named "Gone".')
    found = messages(labelled)
    assert found[0][:2] == ("warning", "Empty") and found[0][2].startswith("'Empty' has 0 photos: it is left out")
    assert ("warning", "Gone reds", "'Gone reds' is left out: There is no album named \"Gone\".") in found
    assert not any(f[0] == "error" for f in found)


def test_nothing_labelled_yet_says_what_to_do(library: Library) -> None:
    for source, words in (("tags", "accept tags"), ("albums", "put photos in albums")):
        (severity, class_name, message), *_ = messages(labelled_set(library, source))  # type: ignore[arg-type]
        assert (severity, class_name) == ("error", None) and words in message


def test_without_matches_exactly_then_ignoring_case_and_refuses_unknown_names() -> None:
    labelled = LabelledSet(
        "albums", (LabelledClass("Cats", (1, 2)), LabelledClass("cats", (3,)), LabelledClass("Dogs", (4,)))
    )
    assert [c.name for c in labelled.without(["cats"]).classes] == ["Cats", "Dogs"]
    assert [c.name for c in labelled.without(["DOGS", "CATS"]).classes] == []
    with pytest.raises(UserError, match="no class 'Birds' among the albums: 'Cats', 'cats', 'Dogs'"):
        labelled.without(["Birds"])


def sized(*sizes: int) -> LabelledSet:
    start = [sum(sizes[:i]) for i in range(len(sizes))]
    return LabelledSet(
        "tags",
        tuple(
            LabelledClass(f"c{k}", tuple(range(s, s + n))) for k, (s, n) in enumerate(zip(start, sizes, strict=True))
        ),
    )


def test_checks_small_classes_imbalance_and_too_few_photos() -> None:
    assert messages(sized(10, 12, 15)) == []
    found = messages(sized(60, 3, 1, 40))
    assert [f[:2] for f in found] == [("warning", "c1"), ("warning", "c2"), ("warning", None)]
    assert "'c1' has only 3 photos, too few to learn it reliably (at least 4 advised)" in found[0][2]
    assert "'c2' has 1 photo: it is left out" in found[1][2]
    assert "'c0' has 60 photos but 'c1' only 3" in found[2][2]  # among the classes training keeps
    (few,) = messages(sized(6, 6))
    assert few[:2] == ("warning", None) and few[2].startswith("Only 12 photos to train on")
    assert messages(sized(3, 3), min_per_class=2)[-1][2].startswith("Only 6 photos")
    errors = messages(sized(5, 1))
    assert errors[0] == ("error", None, "Fine-tuning needs at least two classes; found only 'c0'.")
    assert messages(sized(1, 1))[0][2] == "Fine-tuning needs at least two classes; none has two photos or more."


def test_manifest_lists_readable_files_of_the_exclusive_set(library: Library, photos: Path, home: Path) -> None:
    shutil.copy(photos / "green" / "green-0.jpg", photos / "blue" / "copy.jpg")
    (photos / "red" / "broken.jpg").write_bytes(b"not a jpeg")
    library.scan()
    library.index()
    labelled = labelled_set(library, "folders")
    path = write_manifest(library, labelled)
    assert path.parent == home / "labels" and path.name.startswith("folders-") and path.suffix == ".json"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 1 and data["source"] == "folders"
    assert {name: sorted(Path(p).name for p in files) for name, files in data["classes"].items()} == {
        "blue": [f"blue-{i}.jpg" for i in range(5)],
        "green": [f"green-{i}.jpg" for i in range(1, 5)],
        "red": [f"red-{i}.jpg" for i in range(5)],
    }
    assert read_manifest(path) == {
        name: tuple(Path(p) for p in files) for name, files in sorted(data["classes"].items())
    }
    assert all(Path(p).is_absolute() and Path(p).is_file() for files in data["classes"].values() for p in files)


def test_manifest_never_goes_into_a_photo_folder(library: Library, photos: Path, tmp_path: Path) -> None:
    labelled = labelled_set(library, "folders")
    with pytest.raises(UserError, match="not written into photo folders"):
        write_manifest(library, labelled, photos / "red" / "labels.json")
    assert not (photos / "red" / "labels.json").exists()
    assert write_manifest(library, labelled, tmp_path / "out" / "mine.json") == tmp_path / "out" / "mine.json"


def test_read_manifest_explains_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    with pytest.raises(UserError, match="does not exist"):
        read_manifest(path)
    for text, problem in (
        ("{not json", "could not be read"),
        ('{"version": 2, "classes": {}}', "not a Photosift labels file of version 1"),
        ('{"version": 1, "classes": {"a": "x.jpg"}}', "mapping of class names to lists of file paths"),
    ):
        path.write_text(text)
        with pytest.raises(UserError, match=problem):
            read_manifest(path)
    path.write_text('{"version": 1, "classes": {"b": ["sub/x.jpg"], "a": ["/abs/y.jpg"]}}')
    assert read_manifest(path) == {"a": (Path("/abs/y.jpg"),), "b": (tmp_path / "sub" / "x.jpg",)}
