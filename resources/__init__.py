"""Data that ships with Photosift: model specs, the tag vocabulary and the app icon.

Code reads them through `resource_path`, so they are found wherever the package is installed (a source
checkout, an editable install or a wheel), never relative to the current directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """The shipped file or folder `parts` below this package, as a filesystem path (the wheel is never
    zipped, so every resource has one)."""
    return Path(str(files(__name__).joinpath(*parts)))
