"""A GPU copy of the vector index for unfiltered searches, where FAISS reports a GPU (faiss-gpu builds)."""

from __future__ import annotations

import logging
from typing import Any

from photosift.core.vindex_file import faiss

_log = logging.getLogger(__name__)


class GpuMirror:
    """A GPU copy of the CPU index for unfiltered searches, made on first use after each change."""

    def __init__(self) -> None:
        # faiss-cpu builds may lack get_num_gpus; they have no GPU to offer either way.
        count = getattr(faiss, "get_num_gpus", None)
        self._enabled = callable(count) and int(count()) > 0
        self._resources: Any = None
        self._index: Any = None

    def invalidate(self) -> None:
        self._index = None

    def get(self, cpu_index: Any) -> Any:
        """The GPU copy of `cpu_index`, or None to search on the CPU."""
        if not self._enabled:
            return None
        if self._index is None:
            try:
                if self._resources is None:
                    self._resources = faiss.StandardGpuResources()
                self._index = faiss.index_cpu_to_gpu(self._resources, 0, cpu_index)
            except RuntimeError as err:  # out of GPU memory, or an index type the GPU lacks
                _log.warning("searching on the CPU: could not copy the vector index to the GPU: %s", err)
                self._enabled = False
                return None
        return self._index
