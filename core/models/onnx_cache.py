"""Where a model's onnxruntime export lives and whether one is ready: no torch needed to find or use it.

The export (`onnx_export`, which needs torch) is derived data: it is written under `Paths.models/onnx/`,
in a folder named by `cache_key` (the spec's key, the digest of its weights file, the onnxruntime
version and the export format), so new weights, a fine-tuned checkpoint or an onnxruntime upgrade export
afresh rather than reuse a stale file. `verified.json`, written last, marks a folder as finished and
checked, and records each file's size and modification time: a tower file written to since its check
(damaged in place, even at the same size) is noticed at the next load and the export made again, where
onnxruntime would load the wrong weights without a word. The folder also holds the model's tokenizer in
a torch-free form where it converts (`text_tokens`), so a search on onnxruntime imports neither torch
nor open_clip.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import onnxruntime

from photosift.core.atomic import remove_stale_temps
from photosift.core.errors import ModelError
from photosift.core.models.spec import ModelSpec
from photosift.core.models.text_tokens import SavedTokenizer, load_saved_tokenizer
from photosift.core.settings import Paths

# Bump when what an export holds changes (2: its tokenizer too; 3: weights beside the graphs; 4: self-attention
# fused into one operator): old caches are ignored, and the next export of the spec removes them.
EXPORT_FORMAT = 4
CHUNK_BYTES = 1 << 20
DONE_FILE = "verified.json"

logger = logging.getLogger(__name__)


class OnnxExportError(ModelError):
    """The towers could not be exported, or the export does not reproduce torch; torch runs the model."""


@dataclass(frozen=True)
class OnnxExport:
    """A verified export: the two tower files (each with its weights in `<tower>.onnx.data` beside it) and the
    worst cosine the check measured."""

    folder: Path
    min_cosine: float

    @property
    def image(self) -> Path:
        return self.folder / "image.onnx"

    @property
    def text(self) -> Path:
        return self.folder / "text.onnx"

    @property
    def towers(self) -> tuple[Path, ...]:
        """Every file onnxruntime reads: the two graphs and their weights."""
        graphs = (self.image, self.text)
        return graphs + tuple(graph.with_name(f"{graph.name}.data") for graph in graphs)

    def tokenizer(self) -> SavedTokenizer | None:
        """The model's tokenizer saved with the export, or None where it could not be converted (or an
        export from before tokenizers were saved): then open_clip's tokenizes."""
        return load_saved_tokenizer(self.folder)


def cache_key(spec: ModelSpec, weights: Path | None) -> str:
    """The folder name of the spec's export: it changes with the weights' content, not just their name."""
    identity = [spec.key, weights_digest(spec, weights), onnxruntime.__version__, EXPORT_FORMAT]
    return f"{spec.name}-{hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]}"


def weights_digest(spec: ModelSpec, weights: Path | None) -> str:
    """The spec's sha256 when it names one (downloads are checked against it), else the file's own digest.

    A fine-tuned checkpoint keeps its file name across retraining, so the name alone cannot say whether
    the cached export still matches; hashing ~600 MB costs about a second, so a file's digest is kept for
    as long as the file stays the same file, size and time (the window's tokenizer warm-up and the first
    search both ask).
    """
    if weights is None:
        return "random-init"
    if spec.sha256:
        return spec.sha256
    stat = weights.stat()
    return _file_digest(str(weights), (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))


@functools.lru_cache(maxsize=8)
def _file_digest(path: str, version: tuple[int, int, int, int]) -> str:
    """The sha256 of the file at `path`; its `version` (inode, size, modification and change times) is part
    of the key, so a file written again or replaced is hashed again."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def cached_export(spec: ModelSpec, paths: Paths, weights: Path | None) -> OnnxExport | None:
    """The verified export for these weights if one was made before and its tower files are all there as
    they were checked, else None (the caller exports again, which replaces the folder)."""
    folder = paths.models / "onnx" / cache_key(spec, weights)
    remove_stale_temps(folder.parent)  # what a process killed mid-export left: a model's size each
    min_cosine = verified_cosine(folder)
    if min_cosine is None:
        return None
    export = OnnxExport(folder, min_cosine)
    # A file removed since (a disk cleaner, a hand): export again rather than fail at the first search.
    return export if all(tower.is_file() for tower in export.towers) else None


def mark_verified(folder: Path, min_cosine: float) -> None:
    """Write `DONE_FILE` into `folder`, last: the check's worst cosine, and the size and modification time
    of every file the folder holds (`verified_cosine` compares them)."""
    files = {f.name: _stamp(f) for f in sorted(folder.iterdir()) if f.is_file() and f.name != DONE_FILE}
    (folder / DONE_FILE).write_text(json.dumps({"min_cosine": min_cosine, "files": files}), encoding="utf-8")


def verified_cosine(folder: Path) -> float | None:
    """The worst cosine `folder`'s check measured, or None when it is unfinished, or a file it checked is
    missing or was written to since (logged: a damaged export is made again). Folders verified before the
    files were recorded are taken as they are."""
    try:
        done = json.loads((folder / DONE_FILE).read_text(encoding="utf-8"))
        min_cosine = float(done["min_cosine"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for name, stamp in done.get("files", {}).items():
        try:
            now = _stamp(folder / name)
        except OSError:
            now = None
        if now != stamp:
            logger.warning("%s was written to after its check; it is made again", folder / name)
            return None
    return min_cosine


def _stamp(file: Path) -> list[int]:
    stat = file.stat()
    return [stat.st_size, stat.st_mtime_ns]
