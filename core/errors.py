"""The error hierarchy of the core library.

Three families, so callers can decide what to show and what to log:
`UserError` messages are sentences meant for a person; `EnvironmentFault` means the machine got in the
way (disk full, GPU out of memory); anything else deriving from `PhotosiftError` is a bug in Photosift.
"""

from __future__ import annotations


class PhotosiftError(Exception):
    """Base of every error the core raises on purpose.

    `str(error)` is the short message a person reads first (what failed and what to do). `details` holds
    what a person only needs when asking for help (URLs tried, the OS error, a file's path): front ends
    show it behind "Show details" or write it to the log, never in the first line.
    """

    def __init__(self, message: str = "", *, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class UserError(PhotosiftError):
    """Something the user can fix; the message is a complete sentence for them."""


class FolderNotFoundError(UserError):
    """A folder the user named does not exist or is not a folder."""


class ImageError(UserError):
    """A single file could not be read as a photo; recorded per file, never fatal to a run."""


class FileMissingError(ImageError):
    """The file is not where the catalog last saw it (moved, renamed, its drive unplugged): a photo then
    waits to be seen again instead of being recorded as failed."""


class ModelError(UserError):
    """A model spec is invalid, unknown, or its weights do not fit the architecture."""


class ModelDownloadError(ModelError):
    """Model weights could not be downloaded; the message says what to fetch and where to put it."""


class ModelMismatchError(UserError):
    """Embeddings of one model were about to be mixed with another's."""


class QueryError(UserError):
    """A search query could not be understood; the message names the position (1-based) and the problem.

    `position` is the same place as a 0-based offset into the query (None where no one place is at
    fault), so a search field can put the cursor there.
    """

    def __init__(self, message: str, position: int | None = None, *, details: str = "") -> None:
        super().__init__(message, details=details)
        self.position = position


class AlbumError(UserError):
    """An album that does not exist, a name already taken, or a change its kind does not allow."""


class EnvironmentFault(PhotosiftError):
    """The machine got in the way: disk full, permission denied on our own data, out of GPU memory."""


class Cancelled(PhotosiftError):
    """A long operation stopped because its cancel token was set.

    The convention for every long operation (scan, index, tag, switch): what finished stays committed, and
    `partial` carries the operation's report of it (an `IndexReport`, the finished `ScanReport`s, a
    `RetagReport`), or None where nothing had finished.
    """

    def __init__(self, message: str = "Stopped.", *, partial: object = None, details: str = "") -> None:
        super().__init__(message, details=details)
        self.partial = partial
