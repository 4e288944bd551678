"""What every stage shares at run time: the device, mixed precision, cancellation, progress lines."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import torch

from photosift.core.progress import CancelToken

Report = Callable[..., None]  # report(event, **fields): one JSON line


def cancel_on_signals(token: CancelToken) -> None:
    """SIGTERM or SIGINT (the GUI's cancel, Ctrl-C) set `token`: the loop checkpoints at its next step
    and the process exits with "stopped", resumable."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        token.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)


@dataclass
class Runtime:
    """The run folder, device, precision and reporting that the stages use."""

    run_dir: Path
    device: str
    report: Report
    stop: CancelToken

    @property
    def amp_dtype(self) -> torch.dtype | None:
        """Mixed precision on CUDA (bf16 where supported, else fp16 with loss scaling); fp32 elsewhere."""
        if self.device != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    @property
    def precision(self) -> str:
        """How the steps compute, in words for the run log."""
        names = {None: "float32", torch.bfloat16: "bfloat16 autocast"}
        return names.get(self.amp_dtype, "float16 autocast with loss scaling")

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        dtype = self.amp_dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """Loss scaling is needed for fp16 only; a disabled scaler is a no-op otherwise."""
        return torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
