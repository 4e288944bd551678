"""`photosift models`: list, download, select and import models."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from photosift.app.cli.common import model_setting, spec_file
from photosift.app.main import device_kind, model_provider, resolve_model
from photosift.core.errors import ModelError
from photosift.core.models.card import model_card
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec, load_spec
from photosift.core.settings import Paths, Settings, save_settings
from photosift.core.wording import plural


def add_models_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    models = sub.add_parser("models", parents=[common], help="list, download, select and import models")
    actions = models.add_subparsers(dest="action", metavar="ACTION")
    models.set_defaults(handler=cmd_list)
    actions.add_parser("list", parents=[common], help="list the models").set_defaults(handler=cmd_list)
    download = actions.add_parser("download", parents=[common], help="download all of a model's files")
    download.add_argument("name", nargs="?", help="model name (default: the selected model)")
    download.set_defaults(handler=cmd_download)
    select = actions.add_parser("select", parents=[common], help="make a model the one used for indexing and search")
    select.add_argument("name", help="model name or spec file path")
    select.set_defaults(handler=cmd_select)
    imp = actions.add_parser("import", parents=[common], help="import a local checkpoint as a new model")
    imp.add_argument("checkpoint", help="a .safetensors or .pt/.pth state dict")
    imp.add_argument("--base", required=True, help="the model whose architecture the checkpoint fits")
    imp.add_argument("--name", required=True, help="a short name for the new model")
    imp.set_defaults(handler=cmd_import)


def _print(args: argparse.Namespace, data: Any, text: str) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else text)


def cmd_list(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    """The built-in and imported models, and the selected spec file if one is selected, marked with *."""
    registry = ModelRegistry(paths)
    default = registry.default_spec(device_kind(settings.device)).name
    selected_file = spec_file(settings.model)
    selected = None if selected_file else settings.model or default
    rows = [_row(spec, registry, paths, spec.name == selected, spec.name == default) for spec in registry.specs()]
    if selected_file:
        rows.append(_file_row(selected_file, registry, paths))
    _print(args, rows, "\n".join(_model_line(r) for r in rows))
    return 0


def _row(spec: ModelSpec, registry: ModelRegistry, paths: Paths, selected: bool, default: bool) -> dict[str, Any]:
    card = model_card(spec).as_json()
    return {
        "name": spec.name,
        "title": spec.title,
        "summary": card.pop("title"),  # the catalogue's plain words, beside the model's own name
        **{key: value for key, value in card.items() if key not in ("name", "embed_dim", "download_mb")},
        "dim": spec.embed_dim,
        "download_mb": spec.download_mb,
        "downloaded": registry.is_downloaded(spec),
        "fetched_mb": round(_resumable_mb(spec, paths), 1),  # of an unfinished download, which resumes
        "selected": selected,
        "default_here": default,
        "spec_file": None,
    }


def _file_row(path: Path, registry: ModelRegistry, paths: Paths) -> dict[str, Any]:
    """The selected spec file's row; one that cannot be read is listed with the reason."""
    try:
        spec = load_spec(path)
    except ModelError as exc:
        return {"name": path.stem, "selected": True, "spec_file": str(path), "problem": str(exc)}
    return _row(spec, registry, paths, selected=True, default=False) | {"spec_file": str(path)}


def _resumable_mb(spec: ModelSpec, paths: Paths) -> float:
    from photosift.core.models.download import resumable_bytes  # urllib and http.client: not for --help

    weights = spec.weights_file(paths)
    return resumable_bytes(weights) / 1e6 if weights is not None else 0.0


def _model_line(row: dict[str, Any]) -> str:
    if "problem" in row:
        pick = "Pick another with `photosift models select NAME`."
        return f"* {row['spec_file']}  (selected, but it cannot be used. {row['problem']} {pick})"
    size = "downloaded" if row["downloaded"] else f"{row['download_mb']:g} MB to download"
    if row["fetched_mb"]:
        size += f", {row['fetched_mb']:g} MB of it fetched"
    mark = "*" if row["selected"] else " "
    default = "  (default on this machine)" if row["default_here"] else ""
    where = f"  (spec file {row['spec_file']})" if row["spec_file"] else ""
    speeds = f"CPU {row['cpu_speed']}, GPU {row['gpu_speed']}"
    about = " · ".join([row["summary"], row["languages"], f"licence {row['licence']}", speeds, row["details"]])
    return f"{mark} {row['name']:<28} {row['title']}  [{row['dim']}-d, {size}]{default}{where}\n    {about}"


def cmd_download(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    from photosift.app.progress import TqdmProgress

    models = model_provider(paths)
    spec = resolve_model(models, args.name or args.model, settings)
    with TqdmProgress(quiet=args.json) as progress:
        models.make_encoder(spec, settings.device).load(progress, None)
    _print(args, {"name": spec.name, "downloaded": True}, f"{spec.name} is ready.")
    return 0


def cmd_select(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    """Select a model by name, or by spec file, stored as an absolute path so that every folder finds it."""
    spec = ModelRegistry(paths).resolve(args.name)
    save_settings(paths, settings.with_changes(model=model_setting(args.name)))
    embedded = _embedded_with(spec, paths)
    then = (
        f"{plural(embedded, 'photo')} {'is' if embedded == 1 else 'are'} indexed with it."
        if embedded
        else "Run `photosift index` to embed your photos with it."
    )
    _print(args, {"selected": spec.name, "embedded": embedded}, f"Selected {spec.name}. {then}")
    return 0


def _embedded_with(spec: ModelSpec, paths: Paths) -> int:
    """How many photos of the library hold embeddings of `spec` (none where there is no library yet)."""
    if not paths.database.exists():
        return 0
    from photosift.core.catalog import Catalog
    from photosift.core.catalog.model_rows import stored_models

    catalog = Catalog(paths.database)
    try:
        return sum(m.embedded for m in stored_models(catalog.engine) if m.key == spec.key)
    finally:
        catalog.close()


def cmd_import(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    registry = ModelRegistry(paths)
    spec = registry.import_checkpoint(Path(args.checkpoint), registry.resolve(args.base), args.name)
    _print(
        args, {"imported": spec.name}, f"Imported {spec.name}; select it with `photosift models select {spec.name}`."
    )
    return 0
