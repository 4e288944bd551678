"""Every file of every photo with its watched folder: what labelled training sets are built from (the
folder a file sits in is a class; training reads the files, so it needs one that can be read now)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from photosift.core.catalog import schema as s


@dataclass(frozen=True)
class PhotoFile:
    """One file of a photo.

    Attributes:
        folder: the watched folder the file was found under.
        available: the photo could be read when it was indexed (or has not been tried yet), and the
            folder was not offline at its last scan, so training can expect to read the file.
    """

    photo_id: int
    path: str
    folder: str
    available: bool


def photo_files(engine: Engine) -> list[PhotoFile]:
    """All files, by photo id then path.

    One pass over the files table rather than IN lists of the wanted photos: a labelled set usually
    wants a large share of the library, and a pass takes well under a second at 200k files.
    """
    query = (
        select(s.files.c.photo_id, s.files.c.path, s.folders.c.path, s.folders.c.status, s.photos.c.status)
        .join(s.folders, s.folders.c.id == s.files.c.folder_id)
        .join(s.photos, s.photos.c.id == s.files.c.photo_id)
        .order_by(s.files.c.photo_id, s.files.c.path)
    )
    with engine.connect() as conn:
        return [
            PhotoFile(int(photo_id), str(path), str(folder), folder_status != "offline" and photo_status != "failed")
            for photo_id, path, folder, folder_status, photo_status in conn.execute(query)
        ]
