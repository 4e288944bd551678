"""The photo catalog: SQLite through SQLAlchemy Core, schema under Alembic migrations.

The names below load on first use (PEP 562): `photosift status` and the listings read the catalog
through `core.catalog.readonly` alone, without SQLAlchemy or numpy (issue 15).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from photosift.core.catalog.catalog import Catalog
    from photosift.core.catalog.readonly import FolderInfo
    from photosift.core.catalog.records import FileRecord, PhotoInfo, PhotoResult

__all__ = ["Catalog", "FileRecord", "FolderInfo", "PhotoInfo", "PhotoResult"]
_HOMES = {"Catalog": "catalog", "FolderInfo": "readonly"} | dict.fromkeys(
    ("FileRecord", "PhotoInfo", "PhotoResult"), "records"
)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
