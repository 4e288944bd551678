"""Downloading model weights over HTTP(S), resuming where a broken download stopped.

A model's weights are up to 3.5 GB, fetched on a first start over whatever connection the user has.
Starting again from zero after a dropped connection at 90% is what makes people give up, so the data
streams into `<dest>.part` and a small `<dest>.part.json` remembers where it came from: after a broken
connection the download asks the server for the rest (an HTTP Range request), both within one call
and in a later one (the app was closed, the laptop slept). `If-Range` carries the server's validator
(ETag or Last-Modified), so a file that changed on the server since is fetched whole again, never spliced.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from photosift.core.errors import EnvironmentFault, ModelDownloadError
from photosift.core.progress import CancelToken, Progress, ProgressCallback

CHUNK_BYTES = 1 << 20  # 1 MiB: large enough for fast links, small enough to notice a cancel within a second
TIMEOUT_S = 30  # per connect and per read: a stalled server fails the URL instead of hanging forever
REPORT_INTERVAL_S = 0.2  # progress reports per second stay readable in a status line
USER_AGENT = "Photosift"  # some servers refuse urllib's default agent
# Reconnects to one URL after its connection broke; each must get further than the last, so a server that
# always breaks at the same byte fails the URL after one retry instead of looping.
RECONNECTS = 8
CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")


class _UrlFailed(Exception):
    """One URL failed; the message is a short reason ("the server answered HTTP 404 Not Found").

    `unreachable` marks failures to reach the server at all (offline, DNS, refused, timed out), which the
    error's first sentence calls that; `detail` is the OS error text that only the details show.
    """

    def __init__(self, reason: str, *, unreachable: bool = False, detail: str = "") -> None:
        super().__init__(reason)
        self.unreachable = unreachable
        self.detail = detail


class _Interrupted(_UrlFailed):
    """The connection broke after the file started arriving: what arrived is kept, and worth resuming."""


@dataclass(frozen=True)
class _Resume:
    """Where a partial file came from: resuming it is safe only from the same URL and the same version."""

    url: str
    validator: str  # the server's strong ETag, else its Last-Modified date


def download(
    urls: Iterable[str],
    dest: Path,
    progress: ProgressCallback,
    cancel: CancelToken | None = None,
    *,
    what: str | None = None,
    sha256: str | None = None,
    by_hand: str | None = None,
) -> Path:
    """Download one file from the first of `urls` that works and move it to `dest` once complete.

    The data streams into `dest` + ".part", so an interrupted download never looks finished. A broken
    connection is resumed from where it stopped (up to RECONNECTS times per URL). When every URL fails,
    or the download is cancelled (the app closing, say), a resumable partial file is kept for the next
    call to continue, as indexing keeps its finished batches.

    Args:
        urls: alternative addresses of the same file, tried in order.
        dest: where the file ends up.
        progress: receives `Progress(stage="download")` in bytes, ending with done == total.
        cancel: checked between chunks.
        what: names what failed in the error message, as `ModelSpec.called` does (default: the file name).
        sha256: expected hex digest; a mismatch counts as a failure of that URL.
        by_hand: what the error tells a person to do instead (default: fetch the first URL and save it
            as `dest`, or import a checkpoint); a model with several files names them all here.

    Raises:
        ModelDownloadError: every URL failed; the message says why in one sentence and then what to do
            by hand; the URLs tried and their errors are in its `details`.
        EnvironmentFault: the partial file could not be written (disk full, permissions).
        Cancelled: `cancel` was set.
    """
    url_list = list(urls)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _part_file(dest)
    failures: list[tuple[str, _UrlFailed]] = []
    try:
        for url in url_list:
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                _fetch_resuming(url, part, progress, cancel, sha256)
            except _UrlFailed as exc:
                failures.append((url, exc))
            else:
                part.replace(dest)
                _resume_file(part).unlink(missing_ok=True)
                return dest
    except EnvironmentFault:
        discard_partial_download(dest)  # the disk refused: what was written is in doubt, the space needed
        raise
    kept = resumable_bytes(dest)
    if not kept:
        discard_partial_download(dest)
    name = what or dest.name
    instead = by_hand or _by_hand(url_list, dest)
    raise ModelDownloadError(_failure_message(name, failures, kept, instead), details=_failure_details(failures, dest))


def _failure_message(what: str, failures: list[tuple[str, _UrlFailed]], kept: int, by_hand: str) -> str:
    """One sentence of what failed and why, then what to do; only an unreachable server is called offline."""
    if not failures:
        why = "no download address is known"
    elif all(exc.unreachable for _, exc in failures):
        why = f"this computer could not reach {_host(failures[0][0])} (are you offline?)"
    else:
        why = next(str(exc) for _, exc in failures if not exc.unreachable)
    resume = f" The {kept / 1e6:.0f} MB already fetched are kept: trying again continues from there." if kept else ""
    return f"The {what} could not be downloaded: {why}.{resume} {by_hand}"


def _by_hand(urls: list[str], dest: Path) -> str:
    fetch = f"download {urls[0]} in a browser and save it as {dest}" if urls else f"place the file at {dest}"
    return f"To install it by hand, {fetch}, or import a checkpoint with `photosift models import`."


def _failure_details(failures: list[tuple[str, _UrlFailed]], dest: Path) -> str:
    lines = [f"Destination: {dest}"]
    lines += [f"{url}: {exc}" + (f" ({exc.detail})" if exc.detail else "") for url, exc in failures]
    return "\n".join(lines)


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def _fetch_resuming(
    url: str, part: Path, progress: ProgressCallback, cancel: CancelToken | None, sha256: str | None
) -> None:
    """Fetch `url` into `part`, reconnecting after breaks that made headway; check the digest at the end."""
    furthest = -1
    for _ in range(RECONNECTS + 1):
        try:
            _fetch(url, part, progress, cancel)
            break
        except _Interrupted:
            size = part.stat().st_size if part.exists() else 0
            if size <= furthest or _read_resume(part) is None:
                raise
            furthest = size
    else:
        raise _UrlFailed(f"the connection broke off {RECONNECTS + 1} times")
    if sha256 is not None and _sha256(part) != sha256:
        _discard(part)
        raise _UrlFailed("the file's checksum does not match, so it is damaged or not the expected file")


def _fetch(url: str, part: Path, progress: ProgressCallback, cancel: CancelToken | None) -> None:
    """One request: the rest of `part` when it can resume from `url`, else the whole file."""
    resume = _read_resume(part)
    offset = part.stat().st_size if resume is not None and resume.url == url and part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset and resume is not None:
        headers |= {"Range": f"bytes={offset}-", "If-Range": resume.validator}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S) as response:
            if response.headers.get_content_type() == "text/html":  # a login page or captive portal
                raise _UrlFailed("the server sent a web page instead of the file")
            offset, total = _start(response, url, part, offset)
            _stream(response, part, offset, total, progress, cancel)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the connection, and the failure it becomes is kept for the error's details
        if exc.code == 416 and offset:  # the partial file is longer than the file there now: start over
            _discard(part)
            _fetch(url, part, progress, cancel)
            return
        raise _UrlFailed(f"the server answered HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLError):  # reached, but its certificate or TLS failed
            raise _UrlFailed("the secure connection to the server failed", detail=str(exc.reason)) from exc
        raise _UrlFailed("could not connect", unreachable=True, detail=str(exc.reason)) from exc
    except TimeoutError as exc:
        raise _UrlFailed("the server stopped answering", unreachable=True) from exc
    except (OSError, http.client.HTTPException) as exc:  # resets, TLS errors before any data
        raise _UrlFailed("the connection broke off", detail=repr(exc)) from exc


def _start(response: http.client.HTTPResponse, url: str, part: Path, offset: int) -> tuple[int, int | None]:
    """Decide from the response whether it continues `part` (206) or replaces it (200); return the offset
    the body starts at and the file's total size. A fresh start records how to resume it later."""
    if response.status == 206:
        match = CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
        if match is None or int(match[1]) != offset:
            _discard(part)
            raise _Interrupted("the server resumed at the wrong place")
        return offset, None if match[2] == "*" else int(match[2])
    _discard(part)
    validator = _strong_etag(response.headers.get("ETag")) or response.headers.get("Last-Modified")
    if validator:
        _write_resume(part, _Resume(url, validator))
    return 0, _content_length(response.headers.get("Content-Length"))


def _stream(
    response: BinaryIO,
    part: Path,
    offset: int,
    total: int | None,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> None:
    """Append `response` to `part` (which holds `offset` bytes), reporting progress in whole-file bytes."""
    started = time.monotonic()
    last_report = float("-inf")
    done = offset
    try:
        out = part.open("ab")
    except OSError as exc:
        raise EnvironmentFault(f"Could not write the download to {part} ({exc.strerror or exc}).") from exc
    with out:
        while chunk := _read(response, done, total):
            if cancel is not None:
                cancel.raise_if_cancelled()
            _write(out, chunk, part)
            done += len(chunk)
            now = time.monotonic()
            if now - last_report >= REPORT_INTERVAL_S or done == total:
                progress(_report(done - offset, done, total, now - started, part))
                last_report = now
    if total is not None and done != total:
        raise _Interrupted(f"the download stopped after {done} of {total} bytes")
    if total is None:
        progress(_report(done - offset, done, done, time.monotonic() - started, part))


def _read(response: BinaryIO, done: int, total: int | None) -> bytes:
    try:
        return response.read(CHUNK_BYTES)
    except (OSError, http.client.HTTPException) as exc:  # reset, timeout, IncompleteRead mid-file
        of_total = f" of {total}" if total is not None else ""
        raise _Interrupted(f"the connection broke off after {done}{of_total} bytes", detail=repr(exc)) from exc


def _write(out: BinaryIO, chunk: bytes, part: Path) -> None:
    try:
        out.write(chunk)
    except OSError as exc:
        raise EnvironmentFault(f"Could not write the download to {part} ({exc.strerror or exc}).") from exc


def _report(fetched: int, done: int, total: int | None, elapsed: float, part: Path) -> Progress:
    """Progress over the whole file; the rate counts only this connection's bytes (`fetched`)."""
    rate = fetched / elapsed if elapsed > 0 else None
    eta = (total - done) / rate if rate and total is not None else None
    name = part.name.removesuffix(".part")
    return Progress(stage="download", done=done, total=total, rate=rate, eta_s=eta, message=name)


def _content_length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _strong_etag(value: str | None) -> str | None:
    """If-Range accepts only strong entity tags; a weak one (W/"...") cannot prove the bytes are equal."""
    return value if value and not value.startswith("W/") else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _resume_file(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _read_resume(part: Path) -> _Resume | None:
    """How `part` can be resumed, or None (no record, or one that is unreadable: start over)."""
    try:
        record = json.loads(_resume_file(part).read_text(encoding="utf-8"))
        return _Resume(url=str(record["url"]), validator=str(record["validator"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_resume(part: Path, resume: _Resume) -> None:
    try:
        _resume_file(part).write_text(json.dumps({"url": resume.url, "validator": resume.validator}), "utf-8")
    except OSError as exc:
        raise EnvironmentFault(f"Could not write the download to {part} ({exc.strerror or exc}).") from exc


def resumable_bytes(dest: Path) -> int:
    """How much of `dest` an earlier download fetched and a new one would continue from (0: none)."""
    part = _part_file(dest)
    return part.stat().st_size if _read_resume(part) is not None and part.is_file() else 0


def discard_partial_download(dest: Path) -> None:
    """Delete what a download of `dest` left to resume, if anything."""
    _discard(_part_file(dest))


def _part_file(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _discard(part: Path) -> None:
    part.unlink(missing_ok=True)
    _resume_file(part).unlink(missing_ok=True)
