"""The built-in tag vocabulary: everyday photo concepts in groups, each with prompts for ensembling.

The vocabulary is data (`resources/tags/vocabulary.json`), read into frozen dataclasses. Each tag's
prompts carry their own article ("a dog", "snow", "the sea"), and the vocabulary's templates add no
article of their own ("a photo of {}."): the evaluation templates in `core.evaluation.prompts` write
"a photo of a {}.", which suits ImageNet's count nouns but reads wrongly for the mass nouns and scenes a
photo library is full of ("a photo of a snow", "a photo of a birthday parties").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from photosift.core.errors import UserError
from photosift.core.tags.records import TagInfo
from photosift.resources import resource_path

VOCABULARY_FILE = resource_path("tags", "vocabulary.json")
CUSTOM_GROUP = "Custom"  # where user tags go unless they name a group
MAX_NAME_LENGTH = 60  # a tag name is a label on a chip in the GUI, not a sentence


@dataclass(frozen=True)
class TagDefinition:
    """What a tag means: its name, its group, and the phrases whose text embeddings describe it."""

    name: str
    group: str
    prompts: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    """The built-in tags and the templates every tag's prompts are ensembled with."""

    templates: tuple[str, ...]
    tags: tuple[TagDefinition, ...]

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(tag.group for tag in self.tags))


@dataclass(frozen=True)
class SeedPlan:
    """What bringing the catalog's built-in tags in line with the vocabulary changes (TagStore.seed)."""

    added: tuple[TagDefinition, ...]
    changed: tuple[tuple[int, TagDefinition], ...]  # (tag id, its definition now)
    retired: tuple[int, ...]  # built-ins the vocabulary no longer has: kept as custom tags (labels rely on them)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.retired)


def seed_plan(vocabulary: Vocabulary, tags: Iterable[TagInfo]) -> SeedPlan:
    """The changes that bring `tags` (the catalog's) in line with `vocabulary`. A custom tag that a new
    built-in would shadow keeps its user's definition."""
    current = {tag.name: tag for tag in tags}
    added: list[TagDefinition] = []
    changed: list[tuple[int, TagDefinition]] = []
    for tag in vocabulary.tags:
        row = current.pop(tag.name, None)
        if row is None:
            added.append(tag)
        elif row.builtin and (row.prompts != tag.prompts or row.group != tag.group):
            changed.append((row.id, tag))
    return SeedPlan(tuple(added), tuple(changed), tuple(row.id for row in current.values() if row.builtin))


def normalise_name(name: str) -> str:
    """The form tag names are stored and compared in: lower case, single spaces, `_` read as a space
    (so `tag:birthday_party` on a command line finds "birthday party")."""
    return re.sub(r"\s+", " ", name.replace("_", " ")).strip().lower()


def check_definition(name: str, prompts: list[str] | tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The normalised name and cleaned prompts of a tag, or a UserError saying what is wrong."""
    clean = normalise_name(name)
    if not clean:
        raise UserError("A tag needs a name.")
    if len(clean) > MAX_NAME_LENGTH:
        raise UserError(f"The tag name {clean!r} is too long: keep it under {MAX_NAME_LENGTH} characters.")
    if ":" in clean or '"' in clean:
        raise UserError(f"The tag name {clean!r} may not contain ':' or '\"' (they have a meaning in searches).")
    phrases = tuple(dict.fromkeys(p.strip() for p in prompts if p.strip()))
    if not phrases:
        raise UserError(f'The tag {clean!r} needs at least one prompt, e.g. "a photo of {clean}".')
    return clean, phrases


def load_vocabulary(path: Path = VOCABULARY_FILE) -> Vocabulary:
    """Read and check a vocabulary file.

    Raises:
        UserError: the file is missing or malformed (a damaged installation, or a bad custom file).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        templates = tuple(str(t) for t in data["templates"])
        tags = tuple(_definition(tag, str(group["name"])) for group in data["groups"] for tag in group["tags"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"The tag vocabulary {path} cannot be read: {exc}") from exc
    _check(path, templates, tags)
    return Vocabulary(templates, tags)


def _definition(tag: dict[str, object], group: str) -> TagDefinition:
    prompts = tag["prompts"]
    if not isinstance(prompts, list):
        raise TypeError(f"the prompts of {tag.get('name')!r} are not a list")
    name, phrases = check_definition(str(tag["name"]), [str(p) for p in prompts])
    return TagDefinition(name, group, phrases)


def _check(path: Path, templates: tuple[str, ...], tags: tuple[TagDefinition, ...]) -> None:
    if not templates or any(t.count("{}") != 1 for t in templates):
        raise UserError(f"The tag vocabulary {path} needs templates with exactly one '{{}}' each.")
    seen: set[str] = set()
    for tag in tags:
        if tag.name in seen:
            raise UserError(f"The tag vocabulary {path} names {tag.name!r} twice.")
        seen.add(tag.name)
