"""Adapts core progress callbacks to tqdm bars on stderr."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

from photosift.core.library_lock import WAIT_STAGE
from photosift.core.progress import Progress

STAGE_LABELS = {
    "scan": "Scanning",
    "fingerprint": "Checking files",
    "index": "Indexing",
    "download": "Downloading the model",
    "tag-vectors": "Preparing tags",
    "tag": "Tagging",
    "ocr": "Reading text in photos",
    "duplicates": "Comparing photos",
    "duplicate-hashes": "Reading photos to confirm duplicates",
    "places": "Naming places",
}
UNITS = {
    "index": " photos",
    "tag": " photos",
    "ocr": " photos",
    "tag-vectors": " tags",
    "duplicates": " photos",
    "duplicate-hashes": " photos",
    "places": " photos",
}  # anything else counts files (or bytes)
# Stages told as a sentence (their message) when they start, not as a bar: waiting for another process,
# and loading a model, whose one step a bar would show as "0/1 files" until it is done.
SENTENCE_STAGES = {WAIT_STAGE, "load"}
# Scoring photos against prepared tags is one matrix product: its "rate" (millions of photos a second)
# says nothing about the run, so that bar shows counts and time only.
NO_RATE = {"tag"}
COUNTS_ONLY = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}]"

if TYPE_CHECKING:  # the GUI imports the labels above at start-up, and tqdm only on the command line
    from tqdm import tqdm


class TqdmProgress:
    """A progress callback that draws one bar per stage; quiet when stderr is not a terminal and `quiet`."""

    def __init__(self, quiet: bool = False) -> None:
        self._bar: tqdm | None = None
        self._stage = ""
        self._said = ""  # the last sentence written for a stage of SENTENCE_STAGES
        self._quiet = quiet

    def __call__(self, p: Progress) -> None:
        from tqdm import tqdm

        if self._quiet:
            return
        if p.stage in SENTENCE_STAGES:  # a sentence ("Loading ...", "Waiting for ..."), not a bar
            if p.done == 0 and (p.stage, p.message) != (self._stage, self._said):
                self.close()
                self._stage, self._said = p.stage, p.message
                tqdm.write(p.message + ("…" if p.stage == "load" else ""), file=sys.stderr)
            return
        if p.stage != self._stage or self._bar is None:
            self.close()
            self._stage = p.stage
            if p.total == 0:  # nothing to do (no photo the text gate lets through): a bar would say "0 photos"
                return
            unit_scale = p.stage == "download"
            self._bar = tqdm(
                total=p.total,
                desc=STAGE_LABELS.get(p.stage, p.stage),
                unit="B" if unit_scale else UNITS.get(p.stage, " files"),
                unit_scale=unit_scale,
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
                bar_format=COUNTS_ONLY if p.stage in NO_RATE else None,
            )
        self._bar.total = p.total
        self._bar.update(p.done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> TqdmProgress:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
