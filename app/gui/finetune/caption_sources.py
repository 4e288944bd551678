"""Where the wizard's pseudo-captions come from: the trainer always captions with the class names; the
user may add Photosift's bundled caption bank, their own tag and album names, and a caption file.

MCIP mines its captions from CC12M's millions; a personal library has no such corpus, so the bundled
bank is the tag vocabulary's phrases (resources/tags/vocabulary.json) in the vocabulary's own templates:
a few thousand everyday descriptions ("a photo of a sandy beach.") that the base model already places
well in its text space, which is what MCArcMargin pulls the photos towards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from photosift.core.atomic import write_text
from photosift.core.errors import UserError
from photosift.core.tags.records import TagInfo
from photosift.core.tags.vocabulary import load_vocabulary
from photosift.core.training_sets import AlbumLabels, TagLabels


class TagWords(TagLabels, Protocol):
    """Every tag, and those the user accepted on photos (`core.tags.service.TagService`)."""

    def tags(self, group: str | None = None) -> list[TagInfo]: ...


class UserWords(Protocol):
    """Where the user's own words come from (`core.library.Library`): their tags and their albums."""

    @property
    def tags(self) -> TagWords: ...

    @property
    def albums(self) -> AlbumLabels: ...


def bundled_captions() -> list[str]:
    """Every phrase of the tag vocabulary in every one of its templates, without duplicates."""
    vocabulary = load_vocabulary()
    captions = (
        template.format(prompt)
        for tag in vocabulary.tags
        for prompt in tag.prompts
        for template in vocabulary.templates
    )
    return list(dict.fromkeys(captions))


def user_terms(library: UserWords) -> list[str]:
    """The user's own words: custom tags, tags they accepted on photos, and album names (sorted)."""
    tags = {t.name for t in library.tags.tags() if not t.builtin} | set(library.tags.labelled_photos(True))
    albums = {album.name for album in library.albums.list_all()}
    return sorted(tags | albums, key=str.casefold)


def read_caption_file(path: Path) -> list[str]:
    """The non-empty lines of a UTF-8 text file, one caption each.

    Raises:
        UserError: the file cannot be read as UTF-8 text.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"The caption file {path} is not UTF-8 text.") from None
    except OSError as exc:
        raise UserError(f"The caption file {path} cannot be read ({exc.strerror or exc}).") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def write_caption_file(target: Path, captions: list[str]) -> None:
    """Write the captions the run mines from, one a line, atomically.

    Raises:
        EnvironmentFault: the run folder cannot be written.
    """
    write_text(target, "".join(f"{c}\n" for c in captions), f"the caption file {target}")
