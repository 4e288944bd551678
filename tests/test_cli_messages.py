"""What the command line says: counts with the right plurals, summaries that agree with themselves, an
offer to forget an offline empty folder, no window where nobody can see it, and logs in the log folder
rather than on the progress bars. Sentences are built from reports, so no model is needed here."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest

from photosift.app.cli import run
from photosift.app.cli.albums import album_line
from photosift.app.cli.duplicates import find_summary
from photosift.app.cli.library import index_lines
from photosift.app.cli.main import display_problem
from photosift.app.cli.tags import import_line
from photosift.app.cli.text import text_lines, text_status_line, text_status_of
from photosift.app.errorlog import configure_logging
from photosift.app.progress import TqdmProgress
from photosift.core.albums.records import AlbumInfo
from photosift.core.duplicates.records import DuplicateReport
from photosift.core.indexer import IndexReport
from photosift.core.ocr.reader import OcrReport
from photosift.core.progress import Progress
from photosift.core.protocol import EXIT_ENVIRONMENT, EXIT_USER
from photosift.core.scanner import ScanReport
from photosift.core.settings import Paths
from photosift.core.tags.records import ExchangeReport
from photosift.core.wording import plural


def test_counts_have_plurals_and_a_rate_only_when_something_was_embedded() -> None:
    one = index_lines([ScanReport("/p", added=1)], IndexReport(1, 0, 0.5), {"/p": 1})
    assert one == ["/p: 1 new", "Embedded 1 photo in 0.5 s (2.0 photos/s)."]
    nothing = index_lines([ScanReport("/p", unchanged=3)], IndexReport(0, 0, 0.01), {"/p": 3})
    assert nothing == ["/p: 3 unchanged", "Nothing new to embed: the library is up to date."]
    failed = index_lines([ScanReport("/p", added=2)], IndexReport(1, 1, 1.0), {"/p": 2})
    assert "1 photo could not be read: see which with `photosift status --failures`." in failed


def test_a_count_has_its_noun_in_the_right_number_and_thousands_grouped() -> None:
    """One helper for the command line and the window, so neither says "1 photos"."""
    assert [plural(n, "photo") for n in (0, 1, 2, 1204)] == ["0 photos", "1 photo", "2 photos", "1,204 photos"]
    assert [plural(n, "class") for n in (1, 2)] == ["1 class", "2 classes"]


def test_a_duplicate_search_summary_counts_one_group_and_one_photo_in_the_singular() -> None:
    one = DuplicateReport(2, 1, 1, groups=1, duplicates=1, hashed=0, elapsed_s=0.5)
    assert one.summary() == ("Found 1 group of near-duplicates among 2 photos in 0.5 s: 1 photo marked as a duplicate.")
    assert find_summary(one).startswith(one.summary() + " Review them with `photosift duplicates list`")
    three = DuplicateReport(9, 4, 4, groups=2, duplicates=3, hashed=0, elapsed_s=0.5)
    assert three.summary().endswith("among 9 photos in 0.5 s: 3 photos marked as duplicates.")
    none = DuplicateReport(1, 0, 0, groups=0, duplicates=0, hashed=0, elapsed_s=0.1)
    assert none.summary() == find_summary(none) == "No near-duplicates among 1 photo (0.1 s)."


def test_the_text_pass_says_what_it_read_and_what_it_skipped_in_plain_words() -> None:
    report = OcrReport(read=1, with_text=1, unlikely=122, failed=1, elapsed_s=0.5)
    assert text_lines(report) == [
        "Read the text of 1 photo (1 with text) in 0.5 s (2.00 photos/s).",
        "Skipped 122 photos that do not look like they hold text.",
        "1 photo could not be read for text.",
    ]
    assert text_lines(OcrReport(0, 0, 0, 0, 0.0)) == []
    status = text_status_of("likely", {"text": 1, "none": 2, "unlikely": 122}, pending=0)
    assert text_status_line(status) == (
        "Text in photos (ocr: likely): 3 read, 1 with text, 0 pending, 122 skipped as unlikely to hold text"
    )


def test_a_tag_import_says_how_many_entries_name_photos_that_are_not_here() -> None:
    assert import_line(ExchangeReport(3, 1)) == "Imported 3 tags and 1 label."
    one = import_line(ExchangeReport(1, 4, unmatched=1))
    assert one == "Imported 1 tag and 4 labels; 1 entry names a photo not in this library."
    assert import_line(ExchangeReport(0, 0, unmatched=2)).endswith("; 2 entries name photos not in this library.")


def test_album_lines_count_one_photo_in_the_singular() -> None:
    now = datetime.now()
    one = AlbumInfo(1, "Best ants", "manual", None, None, now, photo_count=1)
    smart = AlbumInfo(2, "Bees", "smart", "bee", 0.2, now, photo_count=2)
    assert album_line(one) == "Best ants  (1 photo)"
    assert album_line(smart) == "Bees  (2 photos; smart: bee, similarity >= 0.2)"


def test_photos_embedded_beyond_what_the_scan_found_are_explained() -> None:
    lines = index_lines([ScanReport("/p", unchanged=398)], IndexReport(398, 0, 10.0), {"/p": 398})
    assert lines == [
        "/p: 398 unchanged",
        "Embedded 398 photos in 10.0 s (39.8 photos/s), 398 of them waiting from before.",
    ]


def test_an_offline_folder_says_what_is_kept_and_an_empty_one_is_offered_to_be_forgotten() -> None:
    kept = index_lines([ScanReport("/gone", offline=True)], IndexReport(0, 0, 0.0), {"/gone": 5})
    assert kept[0] == (
        "/gone: not found (offline?); its 5 photos are kept until it is back "
        "or you forget it with `photosift remove /gone`."
    )
    empty = index_lines([ScanReport("/gone", offline=True)], IndexReport(0, 0, 0.0), {"/gone": 0})
    assert "forget it with `photosift remove /gone`" in empty[0] and "[ok]" not in empty[0]
    assert "0 photos" not in empty[0]


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "QT_QPA_PLATFORM=offscreen"),
        ({"QT_QPA_PLATFORM": "minimal"}, "QT_QPA_PLATFORM=minimal"),
        ({"QT_QPA_PLATFORM": "xcb"}, "DISPLAY is unset"),
        ({}, "DISPLAY and WAYLAND_DISPLAY are unset"),
        ({"DISPLAY": ":0"}, None),
        ({"WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "wayland"}, None),
    ],
)
def test_the_window_opens_only_where_someone_can_see_it(environ: dict[str, str], problem: str | None) -> None:
    found = display_problem(environ, "linux")
    assert found == problem if problem is None else problem in (found or "")
    assert display_problem(environ, "darwin") is None


def test_an_offscreen_platform_ends_with_a_sentence_instead_of_waiting(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert run([]) == EXIT_ENVIRONMENT
    assert "QT_QPA_PLATFORM=offscreen draws windows nobody can see" in capsys.readouterr().err


def test_tagging_shows_no_meaningless_rate(capsys: pytest.CaptureFixture[str]) -> None:
    with TqdmProgress() as progress:
        progress(Progress("tag", 10100, 10100))
        progress(Progress("index", 3, 3))
    err = capsys.readouterr().err
    tagging = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("Tagging")][-1]
    assert "10100/10100" in tagging and "/s" not in tagging
    assert "photos/s" in err  # indexing keeps its rate


def test_a_stage_with_nothing_to_do_draws_no_bar(capsys: pytest.CaptureFixture[str]) -> None:
    with TqdmProgress() as progress:
        progress(Progress("index", 3, 3))
        progress(Progress("ocr", 0, 0))
    err = capsys.readouterr().err
    assert "Indexing" in err and "Reading text" not in err


def test_loading_a_model_is_said_in_a_sentence_not_a_bar_of_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    with TqdmProgress() as progress:
        progress(Progress("load", 0, 1, message="Loading Tiny test model"))
        progress(Progress("load", 1, 1, message="Loading Tiny test model"))
        progress(Progress("load", 0, 1, message="Preparing Tiny test model to run on this processor (once)"))
        progress(Progress("index", 3, 3))
    err = capsys.readouterr().err
    lines = err.replace("\r", "\n").splitlines()
    assert lines[:2] == ["Loading Tiny test model…", "Preparing Tiny test model to run on this processor (once)…"]
    assert "load" not in err and "0/1" not in err and "Indexing" in err


def test_library_warnings_go_to_the_log_file_not_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        log = configure_logging(Paths(tmp_path / "home"))
        logging.getLogger("open_clip").warning("No pretrained weights loaded for model 'tiny-arch'.")
        logging.getLogger("photosift.core.models").info("loaded in 1.2 s")
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
            handler.close()
        logging.captureWarnings(False)
    text = log.read_text(encoding="utf-8")
    assert "No pretrained weights loaded" in text and "loaded in 1.2 s" in text
    assert "No pretrained weights" not in capsys.readouterr().err


def test_an_errors_details_go_to_the_log_and_to_stderr_only_with_verbose(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import photosift.app.cli.library as commands
    from photosift.core.errors import ModelDownloadError

    def offline(*_: object) -> int:
        raise ModelDownloadError("The model could not be downloaded: offline.", details="https://example/x: [Errno -3]")

    monkeypatch.setattr(commands, "cmd_status", offline)
    assert run(["status"]) == EXIT_USER
    log = home / "logs" / "photosift.log"
    assert capsys.readouterr().err == (
        f"photosift: The model could not be downloaded: offline.\nThe details are in {log} (or add --verbose).\n"
    )
    assert "https://example/x: [Errno -3]" in log.read_text(encoding="utf-8")
    assert run(["status", "--verbose"]) == EXIT_USER
    assert capsys.readouterr().err.endswith("offline.\nhttps://example/x: [Errno -3]\n")
