"""Every file a model needs on disk (weights, tokenizer files, a text tower's config), fetched the same way.

A model counts as installed only when all of them are present, and a missing one is downloaded by the
resumable downloader with progress, never by a hub client at run time. An offline first start names
every file still missing and the folder it goes in, so they can be fetched on another computer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from photosift.core.errors import ModelDownloadError, ModelError
from photosift.core.models.download import download
from photosift.core.models.spec import ModelSpec
from photosift.core.progress import CancelToken, ProgressCallback
from photosift.core.settings import Paths


@dataclass(frozen=True)
class NeededFile:
    """One file a model loads, where it goes, and where to download it from.

    Attributes:
        path: where the model reads it.
        urls: alternative download addresses; empty for a local checkpoint, which nothing can fetch.
        sha256: expected hex digest, when the spec gives one.
    """

    path: Path
    urls: tuple[str, ...]
    sha256: str | None


def needed_files(spec: ModelSpec, paths: Paths) -> list[NeededFile]:
    """The weights file (unless random init) and the spec's other files, weights first."""
    found = []
    weights = spec.weights_file(paths)
    if weights is not None:
        urls = spec.weights.urls if spec.weights is not None else ()
        found.append(NeededFile(weights, urls, spec.sha256))
    folder = files_folder(spec, paths)
    if folder is not None:
        found += [NeededFile(folder / file.name, file.urls, file.sha256) for file in spec.files]
    return found


def files_folder(spec: ModelSpec, paths: Paths) -> Path | None:
    """The folder the spec's tokenizer and config files live in (None: it has none)."""
    return None if spec.files_folder is None else paths.models / spec.files_folder


def missing_files(spec: ModelSpec, paths: Paths) -> list[NeededFile]:
    """The needed files that are not on disk yet."""
    return [file for file in needed_files(spec, paths) if not file.path.is_file()]


def fetch_missing(spec: ModelSpec, paths: Paths, progress: ProgressCallback, cancel: CancelToken | None = None) -> None:
    """Download every missing file the model needs, one after the other, each resumable.

    Raises:
        ModelDownloadError: a file could not be downloaded; the message names every file still
            missing and where to put it.
        ModelError: a local checkpoint is missing (nothing can download it).
        EnvironmentFault: a file could not be written.
        Cancelled: `cancel` was set; finished files stay, a partial one is kept to resume.
    """
    for file in missing_files(spec, paths):
        if not file.urls:
            raise ModelError(f"The checkpoint {file.path} of the {spec.name} model is missing.")
        missing = missing_files(spec, paths)
        try:
            download(
                file.urls,
                file.path,
                progress,
                cancel,
                what=spec.called,
                sha256=file.sha256,
                by_hand=by_hand_instructions(missing, spec.weights_file(paths)),
            )
        except ModelDownloadError as exc:
            if len(missing) == 1:
                raise
            listing = "\n".join(f"{other.path}: {' or '.join(other.urls)}" for other in missing)
            raise ModelDownloadError(str(exc), details=f"{exc.details}\nFiles still missing:\n{listing}") from exc


def by_hand_instructions(missing: list[NeededFile], weights: Path | None) -> str:
    """What to do instead of downloading: the files to fetch and where to put them, or an import.

    One file gets its address; several are named by file with the folder they go in, and their addresses
    are in the error's details (see `download`), so the first lines stay short. Importing a checkpoint
    is offered only in place of the weights: it cannot stand in for a tokenizer.
    """
    if len(missing) == 1:
        (file,) = missing
        fetch = f"To install it by hand, download {file.urls[0]} in a browser and save it as {file.path}"
        if file.path == weights:
            return f"{fetch}, or import a checkpoint with `photosift models import`."
        return f"{fetch}."
    folders = {file.path.parent for file in missing}
    if len(folders) == 1:
        where = f"put them in {missing[0].path.parent}: {', '.join(file.path.name for file in missing)}"
    else:
        where = f"save them as {', '.join(str(file.path) for file in missing)}"
    addresses = "their addresses are in the details"
    return f"To install it by hand, fetch its {len(missing)} missing files ({addresses}) and {where}."
