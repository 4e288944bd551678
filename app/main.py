"""The composition root: builds settings, catalog, model and library, and hands them to a front end."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from photosift.core.catalog import Catalog
from photosift.core.library import Library, LibraryEncoder
from photosift.core.models.encoder import Encoder, select_device
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths, Settings


@dataclass(frozen=True)
class ModelProvider:
    """How front ends find model specs and build encoders; the GUI's model switch and first-run dialog
    use it, and tests give one that builds fake encoders."""

    registry: ModelRegistry
    make_encoder: Callable[[ModelSpec, str], LibraryEncoder]  # (spec, device preference) -> encoder

    def resolve(self, name: str | None, device_preference: str) -> ModelSpec:
        """The spec named `name`, or the default for the device the preference selects."""
        if name:
            return self.registry.resolve(name)
        return self.registry.default_spec(select_device(device_preference).split(":")[0])


def model_provider(paths: Paths) -> ModelProvider:
    return ModelProvider(ModelRegistry(paths), lambda spec, device: Encoder(spec, paths, select_device(device)))


def build_library(paths: Paths, settings: Settings, model: str | None = None) -> Library:
    """Wire up a library for `model` (a name or spec path), else the settings' model, else the default
    for this machine's hardware. Nothing heavy happens here: the model loads on first use."""
    paths.ensure()
    models = model_provider(paths)
    spec = models.resolve(model or settings.model, settings.device)
    return Library(paths, settings, Catalog(paths.database), spec, models.make_encoder(spec, settings.device))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `photosift` console script."""
    from photosift.app.cli import run

    return run(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
