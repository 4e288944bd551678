"""The composition root: builds settings, catalog, model and library, and hands them to a front end."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.catalog import Catalog
from core.library import Library
from core.models.encoder import Encoder, select_device
from core.models.registry import ModelRegistry
from core.settings import Paths, Settings


def build_library(paths: Paths, settings: Settings, model: str | None = None) -> Library:
    """Wire up a library for `model` (a name or spec path), else the settings' model, else the default
    for this machine's hardware. Nothing heavy happens here: the model loads on first use."""
    paths.ensure()
    registry = ModelRegistry(paths)
    device = select_device(settings.device)
    chosen = model or settings.model
    spec = registry.resolve(chosen) if chosen else registry.default_spec(device.split(":")[0])
    return Library(paths, settings, Catalog(paths.database), spec, Encoder(spec, paths, device))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `photosift` console script."""
    from app.cli import run

    return run(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
