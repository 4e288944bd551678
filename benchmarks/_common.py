"""Helpers shared by the benchmark scripts (not part of the app)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from core.models.registry import ModelRegistry  # noqa: E402
from core.models.spec import ModelSpec, load_spec  # noqa: E402
from core.settings import Paths  # noqa: E402


def random_weights_spec(name_or_path: str, paths: Paths) -> ModelSpec:
    """A built-in spec with random weights: the same architecture and speed, no download."""
    path = Path(name_or_path)
    spec = load_spec(path) if path.suffix == ".json" else ModelRegistry(paths).resolve(name_or_path)
    return dataclasses.replace(spec, weights=None, checkpoint=None, random_init=True)
