"""The scanner keeps the catalog in line with the disk: moves and renames keep identity, unchanged
files cost a stat, vanished folders lose nothing, and odd trees (hidden, loops, unicode) are handled."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from conftest import make_photo
from sqlalchemy import insert

import photosift.core.scanner as scanner_module
from photosift.core.catalog import Catalog
from photosift.core.catalog import schema as s
from photosift.core.catalog.skipped import skipped_files
from photosift.core.errors import Cancelled, UserError
from photosift.core.progress import CancelToken
from photosift.core.scanner import ScanReport, scan_folder


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path / "db" / "catalog.sqlite3")
    yield cat
    cat.close()


def scan_all(catalog: Catalog) -> list[ScanReport]:
    """Scan every folder, then delete what is gone (as the library does)."""
    reports = [scan_folder(catalog, folder) for folder in catalog.folders()]
    catalog.delete_missing([r for report in reports for r in report.missing])
    return reports


def photo_ids_by_name(catalog: Catalog) -> dict[str, int]:
    result = {}
    for folder in catalog.folders():
        for path, record in catalog.files_in_folder(folder.id).items():
            result[os.path.basename(path)] = record.photo_id
    return result


def test_new_files_are_added_and_rescan_is_stat_only(
    tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = tmp_path / "photos"
    for i, colour in enumerate(["red", "green", "blue"]):
        make_photo(photos / f"{i}.jpg", colour)
    (photos / "notes.txt").write_text("not a photo")
    catalog.add_folder(photos)
    (report,) = scan_all(catalog)
    assert (report.added, report.unchanged) == (3, 0)
    assert len(catalog.pending_photos(catalog.ensure_model("m", "m", 4))) == 3

    reads = []
    monkeypatch.setattr(scanner_module, "fingerprint", lambda path, size: reads.append(path) or "x")
    (report,) = scan_all(catalog)
    assert (report.added, report.unchanged, reads) == (0, 3, [])


def test_cancelling_a_scan_stops_fingerprinting_at_the_files_in_flight(
    tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(400):
        (photos / f"{i}.jpg").write_bytes(b"not decoded while scanning: only fingerprinted")
    folder = catalog.add_folder(photos)
    cancel, reads = CancelToken(), []

    def fingerprint_then_cancel(path: Path, size: int) -> str:
        reads.append(path)
        cancel.cancel()
        return str(path)

    monkeypatch.setattr(scanner_module, "fingerprint", fingerprint_then_cancel)
    with pytest.raises(Cancelled):
        scan_folder(catalog, folder, cancel=cancel)
    # Only the files submitted ahead were read, not all 400; and nothing was recorded.
    assert len(reads) <= scanner_module.FINGERPRINT_LOOKAHEAD + 1
    assert catalog.files_in_folder(folder.id) == {}


def test_rename_and_move_keep_identity(tmp_path: Path, catalog: Catalog) -> None:
    photos = tmp_path / "photos"
    make_photo(photos / "a.jpg", "red")
    make_photo(photos / "b.jpg", "green")
    catalog.add_folder(photos)
    scan_all(catalog)
    before = photo_ids_by_name(catalog)
    os.rename(photos / "a.jpg", photos / "renamed.jpg")
    (photos / "sub").mkdir()
    os.rename(photos / "b.jpg", photos / "sub" / "b.jpg")
    (report,) = scan_all(catalog)
    after = photo_ids_by_name(catalog)
    assert (report.moved, report.added, len(report.missing)) == (2, 0, 0)
    assert after == {"renamed.jpg": before["a.jpg"], "b.jpg": before["b.jpg"]}


def test_move_between_watched_folders_keeps_identity(tmp_path: Path, catalog: Catalog) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    make_photo(first / "a.jpg", "red")
    second.mkdir()
    catalog.add_folder(first)
    catalog.add_folder(second)
    scan_all(catalog)
    original = photo_ids_by_name(catalog)["a.jpg"]
    shutil.move(first / "a.jpg", second / "a.jpg")
    scan_all(catalog)
    assert photo_ids_by_name(catalog) == {"a.jpg": original}
    assert catalog.counts()["files"] == 1


def test_delete_modify_touch_and_copy(tmp_path: Path, catalog: Catalog) -> None:
    photos = tmp_path / "photos"
    for name, colour in [("gone.jpg", "red"), ("edited.jpg", "green"), ("touched.jpg", "blue")]:
        make_photo(photos / name, colour)
    catalog.add_folder(photos)
    scan_all(catalog)
    before = photo_ids_by_name(catalog)

    (photos / "gone.jpg").unlink()
    make_photo(photos / "edited.jpg", "yellow", size=(80, 60))
    os.utime(photos / "touched.jpg", ns=(1_000_000_000, 1_000_000_000))
    shutil.copy(photos / "touched.jpg", photos / "copy of touched.jpg")
    (report,) = scan_all(catalog)

    after = photo_ids_by_name(catalog)
    assert "gone.jpg" not in after
    assert after["edited.jpg"] != before["edited.jpg"]
    assert after["touched.jpg"] == before["touched.jpg"] == after["copy of touched.jpg"]
    assert (report.changed, len(report.missing), report.added) == (1, 1, 1)
    assert catalog.photo(before["gone.jpg"]) is None and catalog.photo(before["edited.jpg"]) is None
    assert len(catalog.photo(after["touched.jpg"]).paths) == 2


def test_identical_copies_in_one_scan_are_one_photo(tmp_path: Path, catalog: Catalog) -> None:
    photos = tmp_path / "photos"
    make_photo(photos / "a.jpg", "red")
    shutil.copy(photos / "a.jpg", photos / "a copy.jpg")
    catalog.add_folder(photos)
    scan_all(catalog)
    ids = photo_ids_by_name(catalog)
    assert ids["a.jpg"] == ids["a copy.jpg"]


def test_vanished_folder_goes_offline_and_keeps_its_photos(tmp_path: Path, catalog: Catalog) -> None:
    photos = tmp_path / "usb-drive"
    make_photo(photos / "a.jpg")
    catalog.add_folder(photos)
    scan_all(catalog)
    shutil.rmtree(photos)
    (report,) = scan_all(catalog)
    assert report.offline
    assert catalog.folders()[0].status == "offline"
    assert catalog.counts()["files"] == 1
    make_photo(photos / "a.jpg")  # plugged back in: the same photo, no new work
    (report,) = scan_all(catalog)
    assert not report.offline and catalog.folders()[0].status == "ok"


def test_hidden_system_folders_symlink_loops_and_unicode(tmp_path: Path, catalog: Catalog) -> None:
    photos = tmp_path / "photos"
    make_photo(photos / "фото 写真 ñ.jpg")
    make_photo(photos / ".hidden" / "secret.jpg")
    make_photo(photos / "@eaDir" / "thumb.jpg")
    make_photo(photos / ".dotfile.jpg")
    (photos / "loop").symlink_to(photos, target_is_directory=True)
    (photos / "dangling.jpg").symlink_to(tmp_path / "nowhere.jpg")
    catalog.add_folder(photos)
    (report,) = scan_all(catalog)
    assert sorted(photo_ids_by_name(catalog)) == ["фото 写真 ñ.jpg"]
    assert report.added == 1


def test_excluded_subfolder_is_skipped(tmp_path: Path, catalog: Catalog) -> None:
    photos = tmp_path / "photos"
    make_photo(photos / "keep.jpg")
    make_photo(photos / "private" / "skip.jpg")
    folder = catalog.add_folder(photos)
    scan_folder(catalog, folder, excluded=frozenset({str(photos / "private")}))
    assert sorted(photo_ids_by_name(catalog)) == ["keep.jpg"]


def test_photo_folders_are_never_written(tmp_path: Path, catalog: Catalog) -> None:
    photos = tmp_path / "photos"
    make_photo(photos / "a.jpg")
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in photos.rglob("*")}
    catalog.add_folder(photos)
    scan_all(catalog)
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in photos.rglob("*")} == before


# Nested watched folders ---------------------------------------------------------------------------


def nested_tree(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "photos"
    make_photo(root / "top.jpg", "red")
    make_photo(root / "sub" / "inner.jpg", "green")
    return root, root / "sub"


def test_a_folder_inside_a_watched_one_is_refused(tmp_path: Path, catalog: Catalog) -> None:
    root, sub = nested_tree(tmp_path)
    catalog.add_folder(root)
    (tmp_path / "shortcut").symlink_to(sub)
    for inside in (sub, tmp_path / "shortcut"):
        with pytest.raises(UserError, match="is inside the watched folder"):
            catalog.add_folder(inside)
    assert [f.path for f in catalog.folders()] == [str(root)]


def test_a_folder_above_watched_ones_takes_them_in(tmp_path: Path, catalog: Catalog) -> None:
    root, sub = nested_tree(tmp_path)
    catalog.add_folder(sub)
    scan_all(catalog)
    before = photo_ids_by_name(catalog)
    catalog.add_folder(root)
    (report,) = scan_all(catalog)
    assert [f.path for f in catalog.folders()] == [str(root)]
    assert (report.added, report.unchanged) == (1, 1)
    assert photo_ids_by_name(catalog)["inner.jpg"] == before["inner.jpg"]  # same photo, embeddings kept


def test_nested_folders_from_an_older_catalog_are_merged_at_the_next_scan(tmp_path: Path, catalog: Catalog) -> None:
    """Catalogs from before the refusal may hold both; every scan then hit UNIQUE constraint failed."""
    root, sub = nested_tree(tmp_path)
    catalog.add_folder(root)
    scan_all(catalog)
    with catalog.engine.begin() as conn:
        conn.execute(insert(s.folders).values(path=str(sub), status="ok", added_at=datetime.now()))
    scan_all(catalog)
    scan_all(catalog)
    assert [f.path for f in catalog.folders()] == [str(root)]
    assert sorted(photo_ids_by_name(catalog)) == ["inner.jpg", "top.jpg"]


def test_files_left_out_on_purpose_are_recorded_with_the_reason(tmp_path: Path, catalog: Catalog) -> None:
    root = tmp_path / "photos"
    make_photo(root / "real.jpg")
    os.mkfifo(root / "pipe.jpg")
    (root / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    (root / "loop.png").symlink_to(root / "loop.png")
    os.mkfifo(root / "not-a-photo.txt")  # not named like a photo: not worth a line
    catalog.add_folder(root)
    (report,) = scan_all(catalog)
    assert report.added == 1
    assert {Path(f.path).name: f.reason for f in skipped_files(catalog.engine)} == {
        "gone.jpg": "skipped: a link to a file that does not exist",
        "loop.png": "skipped: a link that loops back on itself",
        "pipe.jpg": "skipped: a named pipe, not a file",
    }
    (root / "pipe.jpg").unlink()
    scan_all(catalog)
    assert sorted(Path(f.path).name for f in skipped_files(catalog.engine)) == ["gone.jpg", "loop.png"]
    catalog.remove_folder(catalog.folders()[0].id)
    assert skipped_files(catalog.engine) == []
