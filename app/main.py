"""The composition root: builds settings, catalog, model and library, and hands them to a front end.

Nothing heavy is imported at module level: the command line imports this for every command, and a
listing or `status` must not pay for torch, open_clip or FAISS (see benchmarks/bench_startup.py).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from photosift.core.settings import Paths, Settings, save_settings

if TYPE_CHECKING:
    from photosift.core.catalog import Catalog
    from photosift.core.library import Library, LibraryEncoder
    from photosift.core.models.registry import ModelRegistry
    from photosift.core.models.spec import ModelSpec


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
        return self.registry.default_spec(device_kind(device_preference))


def model_provider(paths: Paths, cpu_runtime: str = "auto") -> ModelProvider:
    """Encoders on a CPU run on `cpu_runtime` (see `Settings.cpu_runtime`)."""
    from photosift.core.models.registry import ModelRegistry

    def make_encoder(spec: ModelSpec, device: str) -> LibraryEncoder:
        from photosift.core.models.encoder import Encoder, select_device

        return Encoder(spec, paths, select_device(device), runtime=cpu_runtime)

    return ModelProvider(ModelRegistry(paths), make_encoder)


def device_kind(preference: str) -> str:
    """The device kind ("cuda", "mps", "cpu") that a preference selects. Where the answer is plain, torch
    is not imported to find it: "auto" on a Linux machine without an NVIDIA driver is the CPU."""
    if preference == "cpu" or (preference == "auto" and not _may_have_gpu()):
        return "cpu"
    from photosift.core.models.encoder import select_device

    return select_device(preference).split(":")[0]


def _may_have_gpu() -> bool:
    """False only where no GPU torch could use can be present: Linux with no NVIDIA driver loaded (and
    no WSL GPU bridge). Elsewhere (macOS's MPS, Windows) only torch can tell."""
    if not sys.platform.startswith("linux"):
        return True
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/dxg")


class DeferredEncoder:
    """An encoder that is built, and torch imported, on first use: `status`, the tag and album listings and
    the folder commands open a library but never touch its model. Everything else is the real encoder's."""

    def __init__(self, spec: ModelSpec, device_preference: str, build: Callable[[], LibraryEncoder]) -> None:
        self.spec = spec
        self._preference = device_preference
        self._build = build
        self._encoder: LibraryEncoder | None = None
        self._lock = threading.Lock()

    @property
    def embed_dim(self) -> int:
        return self.spec.embed_dim

    @property
    def device(self) -> str:
        if self._encoder is None and device_kind(self._preference) == "cpu":
            return "cpu"
        return self.built().device

    def built(self) -> LibraryEncoder:
        with self._lock:
            if self._encoder is None:
                self._encoder = self._build()
            return self._encoder

    def __getattr__(self, name: str) -> Any:
        return getattr(self.built(), name)


def resolve_model(models: ModelProvider, model: str | None, settings: Settings) -> ModelSpec:
    """The spec `model` names (a name or spec path), else the selected one, else this machine's default.
    A selected model that can no longer be read says so and how to pick another."""
    from photosift.core.errors import ModelError

    if model or not settings.model:
        return models.resolve(model, settings.device)
    try:
        return models.resolve(settings.model, settings.device)
    except ModelError as exc:
        raise ModelError(
            f"The selected model cannot be used. {exc} Pick another with "
            "`photosift models select NAME` (`photosift models list` shows them).",
            details=exc.details,
        ) from exc


def build_library(paths: Paths, settings: Settings, model: str | None = None) -> Library:
    """Wire up a library for `model` (a name or spec path), else the settings' model, else the default
    for this machine's hardware. Nothing heavy happens here: the model loads on first use."""
    from photosift.core.catalog import Catalog
    from photosift.core.library import Library

    paths.ensure()
    models = model_provider(paths, settings.cpu_runtime)
    catalog = Catalog(paths.database)
    if not (model or settings.model):
        settings = _keep_indexed_model(paths, settings, models, catalog)
    spec = resolve_model(models, model, settings)
    encoder = DeferredEncoder(spec, settings.device, lambda: models.make_encoder(spec, settings.device))
    return Library(paths, settings, catalog, spec, encoder)


def _keep_indexed_model(paths: Paths, settings: Settings, models: ModelProvider, catalog: Catalog) -> Settings:
    """A library indexed while another model was the default keeps it: it becomes the selected model, so
    no front end switches it (and re-indexes every photo) because the default changed."""
    from photosift.core.catalog.model_rows import stored_models

    kept = indexed_model(models, settings, {row.key: row.embedded for row in stored_models(catalog.engine)})
    if kept is None:
        return settings
    settings = settings.with_changes(model=kept)
    save_settings(paths, settings)
    return settings


def indexed_model(models: ModelProvider, settings: Settings, embedded: dict[str, int]) -> str | None:
    """The name of the model that a library with no model selected keeps, where it is not the default
    (ModelRegistry.model_for_library); `embedded`: photos embedded per spec key."""
    kind = device_kind(settings.device)
    kept = models.registry.model_for_library(kind, embedded)
    return None if kept.name == models.registry.default_spec(kind).name else kept.name


def end_process(code: int) -> NoReturn:
    """Leave at once with `code`: flush the log and the output, then `os._exit`.

    The window calls it after `shut_down`: a normal interpreter exit waits for every thread pool (Qt's
    destructors join them), a torch import in progress included: 7-9 s after a quick close. The command
    line calls it once a command that loaded the model stack has closed its library: tearing torch down
    at exit cost 1.5 s of CPU after every `photosift search` (benchmarks/bench_startup.py). Whatever still
    runs then ends here, which leaves the catalog and the index files consistent: writes are transactions,
    files are written aside and renamed.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(code)
