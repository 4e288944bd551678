"""The encoder: photos and texts in, unit-length embedding vectors out.

One encoder owns one model. It is cheap to construct; the model is downloaded if needed and loaded on
first use (or by an explicit `load`), once, under a lock, and `release` gives its memory back.
Preprocessing needs no model, so decode worker threads call `preprocess` while the model is busy.

torch and open_clip are imported only where the torch runtime is used: on a CPU with a verified
onnxruntime export (and its saved tokenizer) a search or an indexing run starts without them, about
2.7 s sooner (benchmarks/bench_text_search.py).
"""

from __future__ import annotations

import contextlib
import ctypes.util
import gc
import logging
import platform
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PIL import Image

from photosift.core.errors import EnvironmentFault, ModelDownloadError, ModelError, UserError
from photosift.core.models.files import fetch_missing
from photosift.core.models.onnx_cache import OnnxExport, OnnxExportError, cached_export
from photosift.core.models.onnx_runtime import OnnxTowers, model_threads, open_towers
from photosift.core.models.preprocess import Preprocessor
from photosift.core.models.spec import DEVICE_KINDS, ModelSpec
from photosift.core.models.text_tokens import SavedTokenizer
from photosift.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from photosift.core.settings import Paths

if TYPE_CHECKING:
    import torch

    from photosift.core.models.build import Tokenizer

OOM_MESSAGES = ("out of memory", "can't allocate memory")  # MPS and CPU allocator wording
SMALLER_BATCH = "choose a smaller batch size in the settings, or close other programs that use the GPU"
SMALLER_MODEL = "close other programs that use the GPU, or choose a smaller model or the CPU"
# "auto": on a CPU, onnxruntime runs the towers once their export reproduced torch (core.models.onnx_export);
# torch runs them on GPUs, for the trainer and wherever the export failed. "int8": "auto" with the image
# tower quantised to int8 (core.models.onnx_int8). "torch": always torch.
RUNTIMES = ("auto", "int8", "torch")

logger = logging.getLogger(__name__)


def select_device(preference: str = "auto") -> str:
    """Pick the torch device kind: "cuda", then Apple "mps", then "cpu" for "auto"; else check the choice.

    Raises:
        UserError: the preference is unknown, or names a device this machine does not have.
    """
    available = available_devices()
    if preference == "auto":
        return available[0]
    if preference not in DEVICE_KINDS:
        raise UserError(f"Unknown device {preference!r}: choose auto, {', '.join(DEVICE_KINDS)}.")
    if preference not in available:
        raise UserError(f"This machine has no usable {preference} device: choose auto or {', '.join(available)}.")
    return preference


def available_devices() -> list[str]:
    """The device kinds this machine can run models on, best first (CPU always last)."""
    return [kind for kind in DEVICE_KINDS if _is_available(kind)]


def _is_available(kind: str) -> bool:
    if kind == "cpu":
        return True
    if not _may_have(kind):
        return False  # no driver for it: not worth importing torch (seconds) to hear the same
    import torch

    if kind == "cuda":
        return torch.cuda.is_available()
    return torch.backends.mps.is_available()


def _may_have(kind: str) -> bool:
    """Whether this machine has the driver a `kind` device needs; torch answers where it may.

    CUDA (and ROCm, which torch also calls "cuda") needs a kernel driver or its library: NVIDIA's driver
    shows in /proc (in containers too), WSL ships libcuda under /usr/lib/wsl, ROCm opens /dev/kfd.
    """
    if kind == "mps":
        return sys.platform == "darwin" and platform.machine() == "arm64"
    if sys.platform == "win32":
        return ctypes.util.find_library("nvcuda") is not None
    if sys.platform == "darwin":
        return False
    markers = ("/proc/driver/nvidia/version", "/usr/lib/wsl/lib/libcuda.so.1", "/dev/kfd")
    return any(Path(marker).exists() for marker in markers) or ctypes.util.find_library("cuda") is not None


class Encoder:
    """Embeds photos and texts with one model spec on one device.

    Thread-safe: any thread may call `preprocess`; the model loads once even if several threads ask for
    it at the same moment.
    """

    def __init__(
        self,
        spec: ModelSpec,
        paths: Paths,
        device: str = "auto",
        patch_dropout: float | None = None,
        runtime: str = "torch",
    ) -> None:
        """Remember what to load; nothing heavy happens until the model is needed. `patch_dropout` is for
        the trainer (see `build_model`). `runtime` is one of `RUNTIMES`: the app's encoder factory passes
        the settings' choice, while tests and the trainer keep the default, torch.

        Raises:
            UserError: `device` or `runtime` is unknown, or the device is not available here.
        """
        if runtime not in RUNTIMES:
            raise UserError(f"Unknown runtime {runtime!r}: choose {' or '.join(RUNTIMES)}.")
        self._spec = spec
        self._paths = paths
        self._patch_dropout = patch_dropout
        self._device = select_device(device)
        self._preprocessor = Preprocessor.from_spec(spec)
        self._lock = threading.Lock()  # the model and tokenizer fields; never held through a download
        self._fetch_lock = threading.Lock()  # one download at a time
        self._model: torch.nn.Module | None = None
        self._use_onnx = runtime in ("auto", "int8") and self._device == "cpu"
        self._int8 = runtime == "int8"
        self._onnx: OnnxTowers | None = None
        self._tokenizer: Tokenizer | None = None  # open_clip's
        self._saved_tokenizer: SavedTokenizer | None = None  # the onnxruntime export's (no torch)
        self._count_lock = threading.Lock()
        self._image_forward_count = 0

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    @property
    def device(self) -> str:
        return self._device

    @property
    def runtime(self) -> str:
        """ "onnxruntime" or "torch": what runs the model (before the first load: what will be tried)."""
        return "onnxruntime" if self._use_onnx else "torch"

    @property
    def embed_dim(self) -> int:
        return self._spec.embed_dim

    @property
    def min_side(self) -> int:
        """The shortest side the decoder must deliver (see `Preprocessor.min_side`)."""
        return self._preprocessor.min_side

    @property
    def image_forward_count(self) -> int:
        """Images passed through the image tower so far; tests use it to prove work was skipped."""
        return self._image_forward_count

    @property
    def is_loaded(self) -> bool:
        return self._model is not None or self._onnx is not None

    @property
    def has_tokenizer(self) -> bool:
        return self._tokenizer is not None or self._saved_tokenizer is not None

    @property
    def model(self) -> torch.nn.Module:
        """The loaded open_clip model (loading it if needed). The trainer fine-tunes it in place, so
        validation through this encoder always sees the current weights."""
        with self._lock:
            self._use_onnx, self._onnx = False, None  # an export would not follow the changing weights
        return self._ensure_model(no_progress, None)

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Token ids for `texts`, (N, context_length), on the CPU."""
        return self._ensure_tokenizer()(list(texts))

    def preprocess(self, img: Image.Image) -> npt.NDArray[np.float32]:
        """Prepare one photo for `encode_images`: float32 (3, H, W). Needs no model; thread-safe."""
        return self._preprocessor(img)

    def load(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> None:
        """Download the weights if missing, load the model, and fetch the tokenizer.

        Progress is reported as stage "download" (bytes) and then "load" (0 of 1, then 1 of 1).

        Raises:
            ModelDownloadError: weights or tokenizer could not be downloaded.
            ModelError: the weights do not fit the architecture, or are not a checkpoint.
            EnvironmentFault: out of memory or disk space.
            Cancelled: `cancel` was set.
        """
        towers = self._ensure_onnx(progress, cancel)
        if towers is None:
            self._ensure_model(progress, cancel)
            self._ensure_tokenizer()
        else:
            self._onnx_tokenizer(towers)  # ready for the first search: the saved one, or open_clip's

    def prepare_bundled_tokenizer(self) -> None:
        """Make the text tokenizer ready now if that needs no download and no export; else nothing.

        On the CPU runtime with an export made before, that is the tokenizer saved with it (no torch or
        open_clip to import: seconds and hundreds of MB); otherwise open_clip's, if it ships inside open_clip
        (see `tokenizer_is_bundled`). The GUI has this done as it opens the library: building CLIP's BPE
        tokenizer in Python splits a 1.3 MB vocabulary in single C calls that hold the GIL for 25-33 ms, a
        stall of the window if it happens while the window runs (the start of the first indexing run or
        search).
        """
        if self._use_onnx and self._cached_export_tokenizer() is not None:
            return
        from photosift.core.models.build import tokenizer_is_bundled

        try:
            bundled = tokenizer_is_bundled(self._spec)
        except ModelError:
            return  # a broken architecture config: loading the model reports it where the user sees it
        if bundled:
            self._ensure_tokenizer()

    def release(self) -> None:
        """Drop the model and tokenizer and give their memory back; the next encode loads them again."""
        with self._lock:
            self._model = None
            self._onnx = None
            self._tokenizer = None
            self._saved_tokenizer = None
        gc.collect()  # open_clip modules hold reference cycles; collect before emptying the CUDA cache
        if self._device in ("cuda", "mps"):
            import torch  # loaded already: the device was chosen with it

            torch.cuda.empty_cache() if self._device == "cuda" else torch.mps.empty_cache()

    def encode_images(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Embed a batch of preprocessed photos, (N, 3, H, W), into (N, embed_dim) unit vectors.

        Raises:
            ValueError: the batch does not have the shape `preprocess` produces.
            EnvironmentFault: the device ran out of memory; a smaller batch may fit.
        """
        size = self._spec.image_size
        if batch.ndim != 4 or batch.shape[1:] != (3, size, size):
            raise ValueError(f"expected a batch of shape (N, 3, {size}, {size}), got {batch.shape}")
        if len(batch) == 0:
            return np.zeros((0, self.embed_dim), dtype=np.float32)
        features = self._on_onnx(lambda towers: towers.encode_images(batch))
        vectors = self._encode_images_torch(batch) if features is None else self._unit_vectors(features)
        with self._count_lock:
            self._image_forward_count += len(batch)
        return vectors

    def _encode_images_torch(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        import torch

        model = self._ensure_model(no_progress, None)
        pixels = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        guard = self._out_of_memory_guard(f"encoding {len(batch)} photos", SMALLER_BATCH)
        with guard, torch.inference_mode(), self._autocast():
            pixels = pixels.to(self._device)
            if self._device == "cuda":
                pixels = pixels.contiguous(memory_format=torch.channels_last)
            features = model.encode_image(pixels)  # type: ignore[operator]
            return self._unit_vectors(features.float().cpu().numpy())

    def encode_texts(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed texts into (len(texts), embed_dim) unit vectors, comparable with the photo embeddings.

        Raises:
            ModelDownloadError: the tokenizer could not be fetched.
            EnvironmentFault: the device ran out of memory.
        """
        if not texts:
            return np.zeros((0, self.embed_dim), dtype=np.float32)
        features = self._on_onnx(lambda towers: towers.encode_texts(self._onnx_tokenizer(towers)(list(texts))))
        if features is not None:
            return self._unit_vectors(features)
        import torch

        tokens = self._ensure_tokenizer()(list(texts))
        model = self._ensure_model(no_progress, None)
        guard = self._out_of_memory_guard(f"encoding {len(texts)} texts", SMALLER_BATCH)
        with guard, torch.inference_mode(), self._autocast():
            features = model.encode_text(tokens.to(self._device))  # type: ignore[operator]
            return self._unit_vectors(features.float().cpu().numpy())

    def _onnx_tokenizer(self, towers: OnnxTowers) -> Callable[[list[str]], npt.NDArray[np.int64]]:
        """The onnxruntime text tower's tokenizer: the one saved with its export, or open_clip's where none
        was saved."""
        saved = self._saved_tokenizer_of(towers.export)
        if saved is not None:
            return saved
        tokenizer = self._ensure_tokenizer()
        return lambda texts: np.asarray(tokenizer(texts).numpy(), dtype=np.int64)

    def _cached_export_tokenizer(self) -> SavedTokenizer | None:
        """The tokenizer saved with this model's export, if the export was made before (nothing is
        downloaded or exported here)."""
        weights = self._spec.weights_file(self._paths)
        if weights is not None and not weights.is_file():
            return None  # not downloaded yet: no export either
        export = cached_export(self._spec, self._paths, weights)
        return self._saved_tokenizer_of(export) if export is not None else None

    def _saved_tokenizer_of(self, export: OnnxExport) -> SavedTokenizer | None:
        """The tokenizer saved with `export` (no torch or open_clip to import), kept for the searches to
        come; None where it saved none."""
        if self._saved_tokenizer is None:
            loaded = export.tokenizer()  # read before taking the lock: tens of milliseconds
            with self._lock:
                if self._saved_tokenizer is None:
                    self._saved_tokenizer = loaded
        return self._saved_tokenizer

    def _unit_vectors(self, features: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
        # Normalise in float32 (under fp16/bf16 autocast the features are half precision), as
        # torch.nn.functional.normalize does: a zero vector stays zero.
        as_float = np.asarray(features, dtype=np.float32)
        norms = np.maximum(np.linalg.norm(as_float, axis=-1, keepdims=True), np.float32(1e-12))
        vectors: npt.NDArray[np.float32] = as_float / norms
        if vectors.shape[1] != self.embed_dim:
            raise ModelError(
                f"The {self._spec.name} spec says embed_dim {self.embed_dim}, but the model produces "
                f"{vectors.shape[1]}-dimensional embeddings."
            )
        return vectors

    def _ensure_model(self, progress: ProgressCallback, cancel: CancelToken | None) -> torch.nn.Module:
        self._fetch_unless_loaded(progress, cancel)
        with self._lock:
            if self._model is None:
                with self._out_of_memory_guard("loading the model", SMALLER_MODEL):
                    self._model = self._load_model(progress, cancel)
            return self._model

    def _on_onnx(self, run: Callable[[OnnxTowers], npt.NDArray[np.float32]]) -> npt.NDArray[np.float32] | None:
        """`run` on the onnxruntime towers, or None where torch runs the model.

        An export whose files turn out damaged when a tower opens (`OnnxTowers` removes it) is made again,
        once: the search or batch that found it waits for the export instead of failing.
        """
        towers = self._ensure_onnx(no_progress, None)
        if towers is None:
            return None
        try:
            return run(towers)
        except OnnxExportError as exc:
            logger.warning("%s %s", exc, exc.details)
            with self._lock:
                if self._onnx is towers:  # not a fresh export another thread made meanwhile
                    self._onnx = None
        towers = self._ensure_onnx(no_progress, None)
        return None if towers is None else run(towers)

    def _ensure_onnx(self, progress: ProgressCallback, cancel: CancelToken | None) -> OnnxTowers | None:
        """The onnxruntime towers if this encoder runs them (exported on first use), else None: torch."""
        self._fetch_unless_loaded(progress, cancel)
        with self._lock:
            if self._use_onnx and self._onnx is None:
                weights = self._fetch_weights(progress, cancel)
                try:
                    self._onnx = open_towers(
                        self._spec,
                        self._paths,
                        weights,
                        lambda: self._load_model_to_export(progress, cancel),
                        self._load_tokenizer,
                        model_threads(),
                        int8=self._int8,
                    )
                except (OnnxExportError, ModelDownloadError) as exc:  # no export, or no tokenizer to check it
                    logger.warning("%s %s", exc, exc.details)
                    self._use_onnx = False
                else:
                    self._model = None  # loaded only to export: the sessions replace it
            return self._onnx

    def _load_model_to_export(self, progress: ProgressCallback, cancel: CancelToken | None) -> torch.nn.Module:
        with self._out_of_memory_guard("loading the model", SMALLER_MODEL):
            self._model = self._load_model(progress, cancel)
        message = f"Preparing {self._spec.title} to run on this processor (once)"
        progress(Progress(stage="load", done=0, total=1, message=message))
        return self._model

    def _ensure_tokenizer(self) -> Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = self._load_tokenizer()
            return self._tokenizer

    def _load_tokenizer(self) -> Tokenizer:
        from photosift.core.models.build import load_tokenizer  # open_clip, and with it torch

        return load_tokenizer(self._spec, self._paths.models)

    def _load_model(self, progress: ProgressCallback, cancel: CancelToken | None) -> torch.nn.Module:
        import torch

        from photosift.core.models.build import build_model
        from photosift.core.models.weights import apply_state_dict

        weights = self._fetch_weights(progress, cancel)
        progress(Progress(stage="load", done=0, total=1, message=f"Loading {self._spec.title}"))
        model = build_model(self._spec, self._patch_dropout, self._paths.models)
        if weights is not None:
            apply_state_dict(model, self._read_weights(weights), self._spec.name)
        if cancel is not None:
            cancel.raise_if_cancelled()
        model = model.to(self._device)
        if self._device == "cuda":
            # Convolutions (patch embedding, convnet towers) run faster on NHWC tensors with cuDNN.
            model = model.to(memory_format=torch.channels_last)
        progress(Progress(stage="load", done=1, total=1, message=f"Loading {self._spec.title}"))
        return model

    def _fetch_unless_loaded(self, progress: ProgressCallback, cancel: CancelToken | None) -> None:
        """Download what the model lacks before taking `_lock`: a download takes minutes, and the tokenizer,
        `release` and the other readers of the lock must not wait for it (only loading the model itself,
        seconds, happens under the lock, where `_fetch_weights` then finds the files in place)."""
        if self._model is None and self._onnx is None:
            with self._fetch_lock:
                self._fetch_weights(progress, cancel)

    def _fetch_weights(self, progress: ProgressCallback, cancel: CancelToken | None) -> Path | None:
        """Download whatever the model still lacks (weights, tokenizer files), then name its weights file."""
        fetch_missing(self._spec, self._paths, progress, cancel)
        return self._spec.weights_file(self._paths)

    def _read_weights(self, path: Path) -> dict[str, torch.Tensor]:
        from photosift.core.models.weights import load_state_dict

        try:
            return load_state_dict(path)
        except ModelError as exc:
            if self._spec.weights is None:
                raise
            # A damaged download stays "downloaded" until removed, so say how to get a fresh copy.
            raise ModelError(f"{exc} Delete {path} to download it again.") from exc

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        if self._device != "cuda":
            return contextlib.nullcontext()
        import torch

        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast(device_type="cuda", dtype=dtype)

    @contextlib.contextmanager
    def _out_of_memory_guard(self, doing: str, hint: str) -> Iterator[None]:
        """Turn the device's out-of-memory errors into an `EnvironmentFault` that says what to do."""
        try:
            yield
        except RuntimeError as exc:
            import torch  # loaded already: the work that failed ran on it

            # CUDA raises torch.cuda.OutOfMemoryError; MPS and the CPU allocator plain RuntimeErrors.
            message = str(exc)
            if not isinstance(exc, torch.cuda.OutOfMemoryError) and not any(s in message for s in OOM_MESSAGES):
                raise
            if self._device == "cuda":
                torch.cuda.empty_cache()
            raise EnvironmentFault(
                f"The {self._device} device ran out of memory {doing} with {self._spec.title}: {hint}."
            ) from exc
