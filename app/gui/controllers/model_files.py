"""A model from a file on this computer: the offline way past a download that cannot happen.

The person may pick a model spec (`.json`), the weights of the model they chose (fetched on another
computer), or another open_clip checkpoint for that model's architecture (imported as a model of its
own). Whatever the file, the answer is a spec that can load, or one plain sentence saying the file does
not fit; what PyTorch or safetensors said about it goes to the error's details, never into that sentence.
"""

from __future__ import annotations

import re
from pathlib import Path

from photosift.core.errors import ModelError
from photosift.core.models.card import model_card
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec, load_spec
from photosift.core.progress import CancelToken
from photosift.core.settings import Paths

SPEC_SUFFIX = ".json"


def model_from_file(
    source: Path, chosen: ModelSpec, registry: ModelRegistry, paths: Paths, cancel: CancelToken | None = None
) -> ModelSpec:
    """The spec to load for `source`: the spec it is, or `chosen` with its weights installed from it, or
    a new model imported on `chosen`'s architecture (a fine-tuned checkpoint, or other weights for it).

    Only `chosen`'s architecture is tried: building another to test the fit costs seconds and gigabytes
    for the large ones, and the person can choose that model on the previous page first.

    Raises:
        ModelError: `source` is no spec and fits no known model; `details` says what each try found.
        EnvironmentFault: the weights could not be copied.
    """
    from photosift.core.models.weights import install_weights  # torch: only once a file is chosen

    if source.suffix.lower() == SPEC_SUFFIX:
        return load_spec(source)
    tried: list[str] = []
    if chosen.weights is not None:
        try:
            install_weights(source, chosen, paths, cancel)
            return chosen
        except ModelError as exc:
            tried.append(f"As the weights of {chosen.title}: {exc}")
    # Without a checksum, a file that fits was installed above: importing it too would only fail again.
    if chosen.weights is None or chosen.sha256 is not None:
        try:
            return registry.import_checkpoint(source, chosen, _free_name(source, registry))
        except ModelError as exc:
            tried.append(f"As a model of its own on the architecture of {chosen.title}: {exc}")
    raise ModelError(
        f"{source.name} does not fit “{model_card(chosen).title}”: choose a model spec (.json), or weights "
        "made for the model chosen on the previous page.",
        details="\n".join(tried),
    )


def _free_name(source: Path, registry: ModelRegistry) -> str:
    """A model name for an imported file, from its file name, not yet taken."""
    stem = re.sub(r"[^a-z0-9._-]+", "-", source.stem.lower()).strip("-._")[:56] or "imported"
    taken = {spec.name for spec in registry.specs()}
    name, number = stem, 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}"
    return name
