"""What every `photosift` command shares: output (text or --json), opening the library with the chosen
model, photo references and the search options.

Nothing heavy is imported here: the model stack loads only inside the commands that use a model.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photosift.core.errors import UserError
from photosift.core.settings import Paths, Settings
from photosift.core.wording import plural

if TYPE_CHECKING:
    from photosift.core.library import Library
    from photosift.core.search.records import SearchFilters, SearchPage

Handler = Callable[[argparse.Namespace, Paths, Settings], int]
PHOTO_HELP = "a library photo: #id or a file's path"


def emit(args: argparse.Namespace, value: Any, human: Callable[[], None]) -> None:
    """Print `value` as JSON with --json, else call `human` to print it as sentences."""
    if args.json:
        data = asdict(value) if is_dataclass(value) and not isinstance(value, type) else value
        print(json.dumps(_finite(data), default=str, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        human()


def _finite(value: Any) -> Any:
    """`value` with every NaN or infinity replaced by null: JSON has no such numbers, and a score
    that overflowed means "no score", not a rank."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def open_library(args: argparse.Namespace, paths: Paths, settings: Settings) -> Library:
    """The library with the model the command names (--model), else the selected one, on --device."""
    from photosift.app.main import build_library

    return build_library(paths, command_settings(args, settings), getattr(args, "model", None))


def command_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """`settings` with what this command's --device and --cpu-runtime override (for this command only)."""
    if getattr(args, "device", None):
        settings = settings.with_changes(device=args.device)
    if getattr(args, "cpu_runtime", None):
        settings = settings.with_changes(cpu_runtime=args.cpu_runtime)
    return settings


def spec_file(name_or_path: str | None) -> Path | None:
    """The spec file a model setting names, or None where it names a model (as the registry tells them)."""
    if not name_or_path:
        return None
    path = Path(name_or_path).expanduser()
    return path if path.suffix == ".json" or path.is_file() else None


def model_setting(name_or_path: str) -> str:
    """How a model is stored in the settings: a name as given, a spec file as an absolute path (so the
    library finds it from any folder)."""
    path = spec_file(name_or_path)
    return str(path.resolve()) if path else name_or_path


def unindexed_model_hint(library: Library) -> str | None:
    """A sentence for a library that has no embeddings of the model it is about to use but has some of
    others: which, and how to switch. None where there is nothing to say."""
    stored = library.stored_models()
    if any(m.id == library.model_id and m.embedded for m in stored):
        return None
    others = [f"{m.name} ({plural(m.embedded, 'photo')})" for m in stored if m.embedded]
    if not others:
        return None
    name = library.spec.name
    return (
        f"No photos are indexed with {name} yet; this library has embeddings of {', '.join(others)}. "
        "Switch with `photosift models select NAME` (a name or its spec file), "
        f"or run `photosift index` to embed the photos with {name}."
    )


def photo_id(library: Library, text: str) -> int:
    """The id of the library photo that `#12`, `12` or a file's path names."""
    from photosift.core.search.references import resolve_photo

    return resolve_photo(library, text)


# Search options ----------------------------------------------------------------------------------


def parse_date(text: str) -> datetime:
    from photosift.core.search.filters import within_catalog_span

    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return within_catalog_span(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD")


def page_size(text: str) -> int:
    """A --limit: a whole number of at least 1 (argparse turns the error into a usage error, exit 2)."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count; use a whole number of at least 1")
    return value


def page_start(text: str) -> int:
    """An --offset: a whole number of at least 0."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an offset; use a whole number, 0 or more")
    return value


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value > 2**31:
        raise argparse.ArgumentTypeError(f"{text!r} is too large")
    return value


def add_paging(parser: argparse.ArgumentParser, default_limit: int, noun: str) -> None:
    limit_help = f"{noun} per page (default {default_limit})"
    parser.add_argument("--limit", type=page_size, default=default_limit, help=limit_help)
    parser.add_argument("--offset", type=page_start, default=0, help=f"skip this many {noun} (paging)")


def add_search_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", help="only photos inside this folder")
    parser.add_argument("--after", type=parse_date, help="taken on or after this date (YYYY[-MM[-DD]])")
    parser.add_argument("--before", type=parse_date, help="taken before this date (YYYY[-MM[-DD]])")
    add_paging(parser, 20, "results")


def search_filters(args: argparse.Namespace) -> SearchFilters:
    from photosift.core.catalog.catalog import absolute_path
    from photosift.core.search.records import SearchFilters

    return SearchFilters((absolute_path(args.folder),) if args.folder else (), args.after, args.before)


def print_page(page: SearchPage) -> None:
    if not page.hits:
        print("No matching photos.")
    for rank, hit in enumerate(page.hits, start=page.offset + 1):
        score = "" if hit.score is None or not math.isfinite(hit.score) else f"{hit.score:6.3f}"
        print(f"{rank:>4}  {score:>6}  #{hit.photo_id:<7} {hit.path}")


def refuse_nul(text: str, what: str) -> str:
    """`text`, unless it holds a NUL byte, which no file name or query can contain."""
    if "\0" in text:
        raise UserError(f"The {what} contains a NUL byte (\\0), which no file name or search can hold.")
    return text
