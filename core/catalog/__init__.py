"""The photo catalog: SQLite through SQLAlchemy Core, schema under Alembic migrations."""

from photosift.core.catalog.catalog import Catalog
from photosift.core.catalog.records import FileRecord, FolderInfo, PhotoInfo, PhotoResult

__all__ = ["Catalog", "FileRecord", "FolderInfo", "PhotoInfo", "PhotoResult"]
