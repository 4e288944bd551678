"""The models Photosift knows: built-in specs shipped in `resources/models`, plus the user's own.

User specs live in `Paths.user_specs`; `import_checkpoint` writes them for fine-tuned or downloaded
checkpoints after checking the weights fit, so a broken file is refused before anything is copied.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from photosift.core.atomic import atomic_writer
from photosift.core.errors import EnvironmentFault, ModelError
from photosift.core.models.files import missing_files
from photosift.core.models.spec import NAME_PATTERN, ModelSpec, dump_spec, load_spec
from photosift.core.settings import Paths
from photosift.resources import resource_path

BUILTIN_SPECS_DIR = resource_path("models")
COPY_CHUNK_BYTES = 1 << 22  # 4 MiB reads keep a multi-gigabyte copy fast without holding it in memory

logger = logging.getLogger(__name__)


class ModelRegistry:
    """Lists, finds and imports model specs. Reads the spec folders on every call: they are tiny."""

    def __init__(self, paths: Paths, builtin_dir: Path = BUILTIN_SPECS_DIR) -> None:
        self._paths = paths
        self._builtin_dir = builtin_dir

    def specs(self) -> list[ModelSpec]:
        """Built-in specs (in file name order), then the user's.

        A user spec that cannot be read, or reuses a taken name, is logged and left out rather than
        making every model unusable.

        Raises:
            ModelError: a built-in spec is broken (the installation is damaged).
        """
        found = self._builtin_specs()
        names = {spec.name for spec in found}
        for path in sorted(self._paths.user_specs.glob("*.json")):
            try:
                spec = load_spec(path)
            except ModelError as exc:
                logger.warning("Skipping a model spec: %s", exc)
                continue
            if spec.name in names:
                logger.warning("Skipping the model spec %s: the name %r is already taken.", path, spec.name)
                continue
            names.add(spec.name)
            found.append(spec)
        return found

    def resolve(self, name_or_path: str) -> ModelSpec:
        """Find a spec by name, or read it from a spec file path.

        Raises:
            ModelError: no such model; the message lists the known names.
        """
        path = Path(name_or_path).expanduser()
        if path.suffix == ".json" or path.is_file():
            return load_spec(path)
        specs = self.specs()
        for spec in specs:
            if spec.name == name_or_path:
                return spec
        known = ", ".join(spec.name for spec in specs)
        raise ModelError(f"There is no model named {name_or_path!r}; the known models are: {known}.")

    def default_spec(self, device_kind: str) -> ModelSpec:
        """The built-in model meant for a device kind ("cuda", "mps" or "cpu").

        Raises:
            ModelError: no built-in spec is marked as the default for that kind.
        """
        for spec in self._builtin_specs():
            if device_kind in spec.default_for:
                return spec
        raise ModelError(f"No built-in model is marked as the default for the {device_kind!r} device.")

    def model_for_library(self, device_kind: str, embedded: Mapping[str, int]) -> ModelSpec:
        """The model a library with no model selected uses.

        That is the built-in default for the device kind, unless the library holds embeddings of other
        built-in models and none of the default's: it was indexed while another model was the default
        (MetaCLIP, before SigLIP 2), and keeps that model and its embeddings, the one holding the most.
        A change of default therefore never re-indexes anyone's photos; a new library gets the new one.

        Args:
            device_kind: "cuda", "mps" or "cpu".
            embedded: photos embedded per spec key (`ModelSpec.key`), as the catalog counts them.

        Raises:
            ModelError: no built-in spec is the default for that kind.
        """
        default = self.default_spec(device_kind)
        if embedded.get(default.key, 0) > 0:
            return default
        indexed = [spec for spec in self._builtin_specs() if embedded.get(spec.key, 0) > 0]
        return max(indexed, key=lambda spec: embedded[spec.key], default=default)

    def is_downloaded(self, spec: ModelSpec) -> bool:
        """Whether every file the model needs (weights, tokenizer files) is on disk; a model with some of
        them only is not installed. Always true for random-init test specs without files."""
        return not missing_files(spec, self._paths)

    def import_checkpoint(self, checkpoint: Path, base: ModelSpec, name: str) -> ModelSpec:
        """Make a checkpoint usable as a model of its own, built on `base`'s architecture and preprocessing.

        The checkpoint must load strictly into `base`'s architecture. It is then copied (never moved or
        changed) into `Paths.models`, and a user spec pointing at the copy is written.

        Raises:
            ModelError: the name is invalid or taken, or the file is not a checkpoint that fits `base`.
            EnvironmentFault: the copy or the spec could not be written.
        """
        if not NAME_PATTERN.fullmatch(name):
            raise ModelError(f"{name!r} is not a valid model name: use lowercase letters, digits, '.', '_' or '-'.")
        spec_file = self._paths.user_specs / f"{name}.json"
        if spec_file.exists() or any(spec.name == name for spec in self.specs()):
            raise ModelError(f"A model named {name!r} already exists; choose another name.")
        from photosift.core.models.build import build_model  # torch and open_clip: only to check the fit
        from photosift.core.models.weights import apply_state_dict, load_state_dict

        source = Path(checkpoint).expanduser().resolve()
        state = load_state_dict(source)
        model = build_model(base, models_dir=self._paths.models)
        apply_state_dict(model, state, base.name)
        del model, state  # only needed to prove the fit; free them before copying gigabytes
        dest = self._paths.models / f"{name}{source.suffix or '.pth'}"
        digest = _copy_with_digest(source, dest)
        imported = replace(
            base,
            name=name,
            title=name,
            description=f"Imported from {source}, on the architecture of {base.title}.",
            pretrained=None,
            weights=None,
            checkpoint=dest,
            random_init=False,
            sha256=digest,
            download_mb=0.0,
            default_for=(),
            path=spec_file,
        )
        try:
            dump_spec(imported, spec_file)
        except OSError as exc:
            dest.unlink(missing_ok=True)
            raise EnvironmentFault(f"Could not write the model spec {spec_file} ({exc.strerror or exc}).") from exc
        return load_spec(spec_file)

    def _builtin_specs(self) -> list[ModelSpec]:
        return [load_spec(path) for path in sorted(self._builtin_dir.glob("*.json"))]


def _copy_with_digest(source: Path, dest: Path) -> str:
    """Copy `source` to `dest` atomically and return its sha256, computed in the same pass."""
    digest = hashlib.sha256()
    try:
        with source.open("rb") as src, atomic_writer(dest, f"the copy of {source.name}") as out:
            while chunk := src.read(COPY_CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:  # reading the source; a failed write is already an EnvironmentFault
        raise EnvironmentFault(f"Could not copy {source} to {dest} ({exc.strerror or exc}).") from exc
    return digest.hexdigest()
