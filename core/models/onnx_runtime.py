"""A model's image and text towers on onnxruntime sessions: the CPU runtime (torch stays for GPUs and
training).

Each tower's session opens on first use, so indexing never loads the text tower and a search never
loads the image tower. `open_towers` reuses a verified export or makes one from the torch model.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import onnxruntime

from photosift.core.models.onnx_cache import OnnxExport, OnnxExportError, cached_export
from photosift.core.models.onnx_int8 import int8_image_tower
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths

if TYPE_CHECKING:
    import torch

    from photosift.core.models.build import Tokenizer


# A batch of photos runs as this many parts side by side, each on its share of the threads. onnxruntime
# splits each layer's work evenly over a session's threads and waits for the slowest; while indexing, a
# decoder that takes a core for a moment stalls every thread of the layer at that barrier. Halves that do
# not wait for each other lose only the time the decoder took. On 2 cores (ViT-B-32-256, batches of 16):
# the model alone 3-5 % faster, indexing end to end 2-3 % faster (README: "A batch in two halves side by side").
IMAGE_PARTS: Final = 2


def model_threads() -> int:
    """onnxruntime's threads in all: every core. The decode pool shares them (see
    `indexer.default_decode_workers`): the sessions do not spin while waiting, so a decoder that needs a
    core gets it, and the model, the slower stage by far on a CPU, gets the rest."""
    return os.cpu_count() or 1


class OnnxTowers:
    """The two towers of one verified export. Thread-safe: sessions open once; `run` may be concurrent."""

    def __init__(self, export: OnnxExport, threads: int, int8_of: ModelSpec | None = None) -> None:
        """`threads` in all: the text tower runs a query on all of them; a batch of photos runs as
        `IMAGE_PARTS` parts side by side, each on its share. With `int8_of` (the export's spec), photos are
        embedded by the int8 image tower where its check passes (`onnx_int8`), quantised when the first
        photo needs it: a search never waits for it. The text tower is always the export's."""
        self._export = export
        self._threads = threads
        self._image_parts = max(1, min(IMAGE_PARTS, threads))
        self._int8_of = int8_of
        self._image: Path | None = None if int8_of else export.image
        self._image_lock = threading.Lock()  # held through a quantisation; the sessions' lock is not
        self._lock = threading.Lock()
        self._sessions: dict[Path, onnxruntime.InferenceSession] = {}

    @property
    def export(self) -> OnnxExport:
        return self._export

    @property
    def int8(self) -> bool:
        """Whether photos are embedded by the int8 image tower (quantising it first if it is asked for)."""
        return self._image_tower() != self._export.image

    def encode_images(self, pixels: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Image features (not normalised) of a preprocessed batch, (N, 3, H, W) float32: its parts run side
        by side (see `IMAGE_PARTS`), the first on the calling thread."""
        tower = self._image_tower()
        pixels = np.ascontiguousarray(pixels, dtype=np.float32)
        parts = np.array_split(pixels, max(1, min(self._image_parts, len(pixels))))
        if len(parts) == 1:
            return self._run(tower, "pixels", pixels)
        with ThreadPoolExecutor(len(parts) - 1, thread_name_prefix="onnx-image") as pool:
            others = [pool.submit(self._run, tower, "pixels", part) for part in parts[1:]]
            first = self._run(tower, "pixels", parts[0])
            return np.concatenate([first, *(future.result() for future in others)])

    def _image_tower(self) -> Path:
        with self._image_lock:
            if self._image is None:
                int8 = int8_image_tower(self._export, self._int8_of) if self._int8_of else None
                self._image = int8 or self._export.image
            return self._image

    def encode_texts(self, tokens: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """Text features (not normalised) of token ids, (N, context_length)."""
        return self._run(self._export.text, "tokens", np.ascontiguousarray(tokens, dtype=np.int64))

    def _run(self, path: Path, name: str, value: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
        (features,) = self._session(path).run(["features"], {name: value})
        return np.asarray(features, dtype=np.float32)

    def _session(self, path: Path) -> onnxruntime.InferenceSession:
        """The tower's session, opened on first use.

        Raises:
            OnnxExportError: the tower's files do not open (damaged since the export was verified: a full disk,
                a crash while the data folder was copied). The export is removed, so the next `open_towers`
                makes it again from the weights.
        """
        with self._lock:
            if path not in self._sessions:
                try:
                    threads = self._threads if path == self._export.text else self._threads // self._image_parts
                    self._sessions[path] = onnxruntime.InferenceSession(
                        str(path), self._options(threads), providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:  # onnxruntime's errors (InvalidProtobuf, Fail...) derive from nothing narrower
                    shutil.rmtree(self._export.folder, ignore_errors=True)
                    raise OnnxExportError(
                        "The onnxruntime export of the model is damaged; it is made again.",
                        details=f"{path}: {exc}",
                    ) from exc
            return self._sessions[path]

    @staticmethod
    def _options(threads: int) -> onnxruntime.SessionOptions:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1  # the towers are one chain of layers: nothing to run side by side
        # Idle threads spinning for work would take the cores from the decode pool between batches.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: its warnings about unused initializers are noise
        return options


def open_towers(
    spec: ModelSpec,
    paths: Paths,
    weights: Path | None,
    load_model: Callable[[], torch.nn.Module],
    load_tokenizer: Callable[[], Tokenizer],
    threads: int,
    int8: bool = False,
) -> OnnxTowers:
    """The spec's towers on onnxruntime, exporting and verifying them first if no export matches; with
    `int8`, photos are embedded by the int8 image tower where its check passes (`onnx_int8`), made when the
    first photo is.

    `load_model` and `load_tokenizer` are called only when an export is needed.

    Raises:
        OnnxExportError: the export failed or did not reproduce torch; the caller runs torch instead.
    """
    export = cached_export(spec, paths, weights)
    if export is None:
        from photosift.core.models.onnx_export import export_towers  # torch: only to make an export

        export = export_towers(load_model(), spec, load_tokenizer(), paths, weights)
    return OnnxTowers(export, threads, spec if int8 else None)
