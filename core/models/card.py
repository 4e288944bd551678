"""A model's entry in the catalogue: what a person choosing a model reads, the same in every front end.

The welcome, the Settings and Models dialogs and `photosift models list` all show these columns, so
they are computed once here from the spec, and speeds nobody measured say so instead of guessing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from photosift.core.models.spec import ModelSpec

NOT_STATED = "not stated"  # a user spec that does not give its licence or languages
NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class ModelCard:
    """One model's catalogue columns.

    Attributes:
        name: the model's short id (`photosift models select NAME`).
        title: its place in the catalogue in plain words ("Fast, works on any computer").
        details: architecture and weights ("ViT-B-32-SigLIP2-256, webli weights").
        licence: SPDX id of the weights' licence, or "not stated".
        languages: what its text search understands ("English", "more than 100 languages"), or "not stated".
        download_mb: approximate download of all its files, 0 for a model already on disk by construction.
        embed_dim: size of its embeddings (memory and disk per photo grow with it).
        cpu_photos_per_s: indexing speed measured on a 2-core CPU, None when not measured.
        gpu_photos_per_s: indexing speed measured on a GPU, None when not measured.
    """

    name: str
    title: str
    details: str
    licence: str
    languages: str
    download_mb: float
    embed_dim: int
    cpu_photos_per_s: float | None
    gpu_photos_per_s: float | None

    @property
    def cpu_speed(self) -> str:
        """The CPU speed as a person reads it: "42 photos/s" or "not measured"."""
        return _speed_text(self.cpu_photos_per_s)

    @property
    def gpu_speed(self) -> str:
        """The GPU speed as a person reads it: "850 photos/s" or "not measured"."""
        return _speed_text(self.gpu_photos_per_s)

    @property
    def download_size(self) -> str:
        """The download as a person reads it: "1.5 GB", "605 MB", or "none"."""
        if self.download_mb <= 0:
            return "none"
        if self.download_mb >= 1000:
            return f"{self.download_mb / 1000:.1f} GB"
        return f"{self.download_mb:.0f} MB"

    def as_json(self) -> dict[str, Any]:
        """The card as plain JSON values, with the readable texts beside the numbers."""
        return asdict(self) | {
            "cpu_speed": self.cpu_speed,
            "gpu_speed": self.gpu_speed,
            "download_size": self.download_size,
        }


def model_card(spec: ModelSpec) -> ModelCard:
    """The catalogue entry of `spec`; fields the spec leaves out fall back to what is known about it."""
    weights = f"{spec.pretrained} weights" if spec.pretrained else "its own weights"
    return ModelCard(
        name=spec.name,
        title=spec.summary or spec.title,
        details=spec.details or f"{spec.architecture}, {weights}",
        licence=spec.licence or NOT_STATED,
        languages=spec.languages or NOT_STATED,
        download_mb=spec.download_mb,
        embed_dim=spec.embed_dim,
        cpu_photos_per_s=spec.speed_on("cpu"),
        gpu_photos_per_s=spec.speed_on("cuda"),
    )


def _speed_text(rate: float | None) -> str:
    return NOT_MEASURED if rate is None else f"{rate:.0f} photos/s"
