"""Tagging through the library with a fake encoder whose right answers are known: photos tagged as they
are indexed, calibration and sensitivity on a real catalog, user labels surviving re-tagging and a model
change, the review queue, album suggestions, and catching up on photos embedded before tagging."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import make_colour_classes, make_photo
from sqlalchemy import delete
from tag_helpers import ColourWordEncoder, ids_of, open_tag_library, tagged_colour_library

from photosift.core.catalog import schema as s
from photosift.core.errors import QueryError, UserError
from photosift.core.library import Library
from photosift.core.tags.service import TagService

COLOURS = ("red", "green", "blue")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_colour_classes(tmp_path / "photos", per_class=4)


@pytest.fixture
def library(home: Path, photos: Path) -> Iterator[Library]:
    """Colour tags defined first, then the photos indexed: tagging happens batch by batch."""
    lib = tagged_colour_library(home, photos)
    yield lib
    lib.close()


def test_photos_get_exactly_their_colour_tag_as_they_are_indexed(library: Library, photos: Path) -> None:
    for colour in COLOURS:
        assert library.tagged_photo_ids(colour) == ids_of(library, photos / colour)
    counts = library.tags.counts()
    assert len(counts) >= 300 and {n for n, c in counts.items() if c} == set(COLOURS)  # no built-in fires


def test_a_tag_added_later_is_scored_from_stored_embeddings(home: Path, photos: Path) -> None:
    lib = open_tag_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    encoder = lib.encoder
    assert isinstance(encoder, ColourWordEncoder) and encoder.image_forward_count == 12
    lib.tags.add("bluish", ["blue"])
    assert lib.tagged_photo_ids("bluish") == ids_of(lib, photos / "blue")
    assert encoder.image_forward_count == 12  # no image model work
    lib.close()


def test_tags_on_different_score_scales_get_their_own_thresholds(library: Library, photos: Path) -> None:
    library.tags.add("reddish", ["red", "a beach"])  # half colour, half a text no photo matches
    red, reddish = library.tags.tag("red"), library.tags.tag("reddish")
    calibrations = library.tags.store.calibrations(library.model_id)
    assert calibrations[reddish.id].threshold() != pytest.approx(calibrations[red.id].threshold(), abs=0.05)
    assert library.tagged_photo_ids("reddish") == library.tagged_photo_ids("red") == ids_of(library, photos / "red")


def test_sensitivity_tags_more_or_fewer_photos(home: Path, tmp_path: Path) -> None:
    # Greys with a little noise in red, then greys ever redder: "red" scores spread like a real tag's.
    rng = np.random.default_rng(0)
    for i, offset in enumerate([*np.round(rng.normal(0, 1.5, 60)).astype(int), *range(2, 17), *range(2, 17)]):
        make_photo(tmp_path / "mixed" / f"{i}.jpg", (128 + int(offset), 128, 128))
    lib = open_tag_library(home)
    lib.tags.add("red", ["red"])
    lib.add_folder(tmp_path / "mixed")
    lib.scan()
    lib.index()
    counts = []
    for level in (-2, 0, 2):
        assert lib.tags.set_sensitivity("red", level).sensitivity == level
        counts.append(len(lib.tagged_photo_ids("red")))
    assert counts[0] < counts[1] < counts[2] < 90
    with pytest.raises(UserError):
        lib.tags.set_sensitivity("red", 5)
    lib.close()


def test_counts_match_each_tags_photos_with_labels_overriding(library: Library, photos: Path) -> None:
    red, blue = sorted(ids_of(library, photos / "red")), sorted(ids_of(library, photos / "blue"))
    library.tags.accept([(blue[0], "red"), (red[1], "red")])  # one the model misses, one it already has
    library.tags.reject([(red[0], "red"), (red[2], "green")])  # one it has, one it does not
    library.tags.set_sensitivity("green", 2)
    counts = library.tags.counts()
    assert counts["red"] == len(red) and counts["blue"] == len(blue)  # one in, one out
    assert counts == {tag.name: len(library.tagged_photo_ids(tag.name)) for tag in library.tags.tags()}


def test_user_labels_win_and_survive_retagging_and_a_model_change(library: Library, photos: Path) -> None:
    red, blue = sorted(ids_of(library, photos / "red")), sorted(ids_of(library, photos / "blue"))
    library.tags.accept([(blue[0], "red")])  # the user sees red where the model does not
    library.tags.reject([(red[0], "red")])  # and no red where it does
    expected = (set(red) - {red[0]}) | {blue[0]}
    assert library.tagged_photo_ids("red") == expected
    assert library.retag().photos == 12
    assert library.tagged_photo_ids("red") == expected
    other = open_tag_library(library.paths.root, model="another-model", catalog=library.catalog)
    assert other.model_id != library.model_id
    other.index()  # embeds with the other model and tags as it goes
    assert other.tagged_photo_ids("red") == expected
    other.retag()
    assert other.tagged_photo_ids("red") == expected
    assert library.tags.labelled_photos(True)["red"] == [blue[0]]
    assert library.tags.labelled_photos(False) == {"red": [red[0]]}


def test_review_queue_best_first_and_bulk_accept_reject(library: Library, photos: Path) -> None:
    queue = library.tags.review_queue(100)
    assert len(queue) == 12 and {(i.photo_id, i.tag) for i in queue} == {
        (p, c) for c in COLOURS for p in ids_of(library, photos / c)
    }
    confidences = [i.confidence for i in queue]
    assert confidences == sorted(confidences, reverse=True)
    reds = library.tags.review_queue(100, tag="red")
    assert library.tags.accept([(i.photo_id, i.tag) for i in reds]) == 4
    green = sorted(ids_of(library, photos / "green"))
    assert library.tags.reject([(p, "green") for p in green[:2]]) == 2
    left = library.tags.review_queue(100)
    assert len(left) == 6 and {i.tag for i in left} == {"green", "blue"}
    assert library.tags.review_count() == 6 and library.tags.review_count("green") == 2
    assert library.tags.review_count("red") == 0 and len(library.tags.review_queue(4)) == 4
    assert library.tagged_photo_ids("green") == set(green[2:])
    assert library.tags.forget_labels([(green[0], "green")]) == 1
    assert green[0] in library.tagged_photo_ids("green")


def test_album_suggestions_rank_tags_by_share(library: Library, photos: Path) -> None:
    red, green = sorted(ids_of(library, photos / "red")), sorted(ids_of(library, photos / "green"))
    suggestions = library.suggest_tags([*red[:3], green[0]], top=5)
    assert [(t.name, t.share, t.photos) for t in suggestions] == [("red", 0.75, 3), ("green", 0.25, 1)]
    assert suggestions[0].mean_score is not None and suggestions[0].mean_score > 0.5
    library.tags.accept([(green[0], "blue")])  # a label alone carries a tag, with no automatic score
    blue = next(t for t in library.suggest_tags([green[0]]) if t.name == "blue")
    assert blue.share == 1.0 and blue.mean_score is None
    assert library.suggest_tags([]) == []


def test_photos_embedded_before_tagging_are_tagged_on_the_next_index(library: Library, photos: Path) -> None:
    with library.catalog.engine.begin() as conn:  # as after upgrading a catalog that predates tags
        conn.execute(delete(s.tag_scores))
    assert library.tagged_photo_ids("red") == set()
    report = library.index()
    assert report.embedded == 0 and library.tagged_photo_ids("red") == ids_of(library, photos / "red")


def test_tag_vectors_are_cached_per_model(library: Library, photos: Path) -> None:
    calls: list[int] = []
    encoder = library.encoder
    assert isinstance(encoder, ColourWordEncoder)
    original = encoder.encode_texts
    encoder.encode_texts = lambda texts: calls.append(len(texts)) or original(texts)  # type: ignore[method-assign]
    reopened = Library(library.paths, library.settings, library.catalog, library.spec, encoder)
    reopened.index()
    reopened.retag()
    assert calls == []  # nothing recomputed for a model that has them
    reopened.tags.add("azure", ["blue"])
    assert calls == [len(reopened.tags.tagger.vocabulary().templates)]  # only the new tag's prompt


def test_tag_names_definitions_and_removal(library: Library, photos: Path) -> None:
    with pytest.raises(QueryError, match="Did you mean 'red'"):
        library.tagged_photo_ids("rde")
    assert library.tags.tag("Birthday_Party").name == "birthday party"
    with pytest.raises(UserError, match="built-in"):
        library.tags.remove("beach")
    with pytest.raises(UserError, match="already"):
        library.tags.add("Red", ["crimson"])
    red = sorted(ids_of(library, photos / "red"))
    library.tags.add("my red", ["red"], examples=red[:2])
    assert set(red[:2]) <= set(library.tags.labelled_photos()["my red"])  # examples are accepted labels
    assert library.tagged_photo_ids("my red") == set(red)
    assert library.tags.remove("my red") == 2
    with pytest.raises(QueryError):
        library.tagged_photo_ids("my red")


def write_vocabulary(path: Path, tags: dict[str, list[str]]) -> Path:
    groups = [{"name": "Colours", "tags": [{"name": n, "prompts": p} for n, p in tags.items()]}]
    path.write_text(json.dumps({"version": 1, "templates": ["a photo of {}."], "groups": groups}))
    return path


def test_a_vocabulary_update_recomputes_only_what_changed(library: Library, photos: Path, tmp_path: Path) -> None:
    encoder = ColourWordEncoder()
    texts: list[str] = []

    def encode(batch: list[str]) -> np.ndarray:
        texts.extend(batch)
        return encoder.encode_texts(batch)

    first = write_vocabulary(tmp_path / "v1.json", {"cyan": ["green"], "navy": ["a beach"]})
    TagService(library.catalog, library.model_id, encode, first).tagger.prepare()
    assert library.tagged_photo_ids("navy") == set()
    texts.clear()
    second = write_vocabulary(tmp_path / "v2.json", {"cyan": ["green"], "navy": ["blue"]})
    service = TagService(library.catalog, library.model_id, encode, second)
    service.tagger.prepare()
    assert texts == ["a photo of blue."]  # only the changed tag's prompt was encoded
    assert library.tagged_photo_ids("navy") == ids_of(library, photos / "blue")
    library.tags.accept([(min(ids_of(library, photos / "green")), "cyan")])
    third = write_vocabulary(tmp_path / "v3.json", {"navy": ["blue"]})
    TagService(library.catalog, library.model_id, encode, third).tagger.vocabulary()
    assert not library.tags.tag("cyan").builtin  # dropped from the vocabulary, kept for its label
    assert library.tagged_photo_ids("cyan") == ids_of(library, photos / "green")


def test_a_tag_removed_through_another_library_does_not_break_its_indexing(library: Library, photos: Path) -> None:
    library.tags.add("azure", ["blue"])
    other = open_tag_library(library.paths.root, model="another-model", catalog=library.catalog)
    matrix = other.tags.tagger.prepare()  # the tag matrix of a run in progress holds "azure"
    assert library.tags.tag("azure").id in matrix.tag_ids
    library.tags.remove("azure")  # as a user would while the other model indexes in the background
    ids, vectors = library.catalog.embeddings(library.model_id)  # a batch the other run writes now
    other.tags.tagger.tag_batch(ids.tolist(), vectors)
    assert other.tagged_photo_ids("blue") == ids_of(library, photos / "blue")


def test_the_tags_given_lately_come_newest_first_without_rejections(library: Library, photos: Path) -> None:
    red, green, blue = (sorted(ids_of(library, photos / colour)) for colour in ("red", "green", "blue"))
    assert library.tags.recently_labelled(5) == []  # automatic tags are no one's labels
    library.tags.accept([(red[0], "blue")])
    library.tags.accept([(green[0], "red")])
    library.tags.reject([(blue[0], "green")])  # a "no" is not a tag given
    library.tags.accept([(red[1], "blue")])  # blue given again, last
    assert library.tags.recently_labelled(5) == ["blue", "red"]
    assert library.tags.recently_labelled(1) == ["blue"]
