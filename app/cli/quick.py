"""`photosift status`, `tag list` and `albums list` answered from the catalog opened read-only.

Opening the library imports SQLAlchemy and numpy, 0.6 s of CPU above Python's start-up where these
commands may take 0.5 s (issue 15), and registers the model and seeds the tags, which a listing need
not wait for. The answers here come from `core.catalog.readonly`, the queries the library runs too.
Each function returns None where only the full path can answer: no catalog yet or an older one (it
migrates), a locked one, a model the catalog has not registered, anything that path would change or
report (a model it selects and saves, the hint that other models hold the embeddings, a smart album's
search); the command then opens the library as before.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from photosift.core.catalog import readonly
from photosift.core.settings import Paths, Settings

if TYPE_CHECKING:
    from photosift.core.albums.records import AlbumInfo
    from photosift.core.library_status import LibraryStatus
    from photosift.core.tags.records import TagInfo

T = TypeVar("T")


def quick_status(
    args: argparse.Namespace, paths: Paths, settings: Settings
) -> tuple[LibraryStatus, dict[str, Any]] | None:
    """The library's status and its text-in-photos status (as `text.text_status` gives it), or None."""
    from photosift.app.main import device_kind
    from photosift.core.ocr import MODES

    if args.failures or settings.ocr not in MODES or device_kind(args.device or settings.device) != "cpu":
        return None  # a device other than the CPU is named by torch (DeferredEncoder.device)
    return _read(paths, lambda db: _status(db, args, paths, settings))


def _status(
    db: sqlite3.Connection, args: argparse.Namespace, paths: Paths, settings: Settings
) -> tuple[LibraryStatus, dict[str, Any]] | None:
    from photosift.app.cli.text import text_status_of
    from photosift.app.main import indexed_model, model_provider, resolve_model
    from photosift.core.library_status import read_status

    models = model_provider(paths, settings.cpu_runtime)
    embedded = {key: count for _, key, _, _, count in readonly.stored_model_rows(db)}
    if not (args.model or settings.model) and indexed_model(models, settings, embedded) is not None:
        return None  # the full path selects the model this library was indexed with, and saves it
    spec = resolve_model(models, args.model, settings)
    row = readonly.model_row(db, spec.key)
    if row is None or row.dim != spec.embed_dim:
        return None  # the full path registers the model, or says why it cannot
    status = read_status(db, paths, spec, row, "cpu")
    if status.embedded == 0 and any(embedded.values()):
        return None  # the full path says which models hold the embeddings (common.unindexed_model_hint)
    pending = 0 if settings.ocr == "off" else readonly.text_pending_count(db, row.id, settings.ocr == "all")
    return status, text_status_of(settings.ocr, readonly.text_counts(db), pending)


def quick_albums(paths: Paths) -> list[AlbumInfo] | None:
    """Every album with its count, where none is smart (a smart album counts by running its search)."""
    from photosift.core.albums.records import album_infos

    albums = _read(paths, lambda db: album_infos(readonly.album_rows(db)))
    return None if albums is None or any(a.kind == "smart" for a in albums) else albums


def quick_tags(paths: Paths) -> list[TagInfo] | None:
    """Every tag, where the catalog's built-in tags are in step with the vocabulary (opening the library
    brings them in step first: after an update that changed it, the full path answers once)."""
    from photosift.core.tags.records import tag_infos
    from photosift.core.tags.vocabulary import load_vocabulary, seed_plan

    tags = _read(paths, lambda db: tag_infos(*readonly.tag_rows(db)))
    return tags if tags is not None and seed_plan(load_vocabulary(), tags).empty else None


def _read(paths: Paths, read: Callable[[sqlite3.Connection], T | None]) -> T | None:
    """What `read` finds in the catalog opened read-only at the code's schema revision (one snapshot), or
    None where it cannot be opened so, or a read fails (busy past the timeout after all, or damaged: the
    full path says what is wrong)."""
    db = readonly.open_read_only(paths.database, readonly.head_revision())
    if db is None:
        return None
    try:
        return read(db)
    except sqlite3.Error:
        return None
    finally:
        db.close()
