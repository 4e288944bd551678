"""Resuming broken downloads, against a loopback HTTP server that speaks Range and If-Range and can cut
its responses short the way a dropped connection does."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from photosift.core.errors import Cancelled, ModelDownloadError
from photosift.core.models.download import RECONNECTS, download
from photosift.core.progress import CancelToken, Progress, no_progress

MIB = 1 << 20
PAYLOAD_BYTES = 3 * MIB + 12345


class FlakyServer(http.server.ThreadingHTTPServer):
    """Serves `files` (name -> (bytes, ETag)); every response stops after `cut` body bytes when set."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.files: dict[str, tuple[bytes, str]] = {}
        self.cut: int | None = None
        self.honour_ranges = True
        self.down = False  # answer 503 Service Unavailable
        self.requests: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class RangeHandler(http.server.BaseHTTPRequestHandler):
    server: FlakyServer

    def do_GET(self) -> None:
        self.server.requests.append(dict(self.headers))
        if self.server.down:
            self.send_error(503)
            return
        data, etag = self.server.files[self.path.lstrip("/")]
        start = self._range_start(etag)
        if start >= len(data):
            self.send_error(416)
            return
        if start:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if self.server.cut is not None and len(body) > self.server.cut:
            body = body[: self.server.cut]
            self.close_connection = True  # the promised length never arrives: a dropped connection
        self.wfile.write(body)

    def _range_start(self, etag: str) -> int:
        asked = self.headers.get("Range")
        if not asked or not self.server.honour_ranges or self.headers.get("If-Range", etag) != etag:
            return 0
        return int(asked.removeprefix("bytes=").removesuffix("-"))

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlakyServer]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # a proxy in the environment must not intercept
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = FlakyServer()
    thread = threading.Thread(target=partial(server.serve_forever, poll_interval=0.05), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def random_bytes(seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, PAYLOAD_BYTES, dtype=np.uint8).tobytes()


def ranges_asked(server: FlakyServer) -> list[str | None]:
    return [request.get("Range") for request in server.requests]


def test_a_dropped_connection_resumes_where_it_stopped(server: FlakyServer, tmp_path: Path) -> None:
    payload = random_bytes(0)
    server.files["w.bin"] = (payload, '"v1"')
    server.cut = MIB
    dest = tmp_path / "model.weights"
    reports: list[Progress] = []
    download([f"{server.url}/w.bin"], dest, reports.append)
    assert dest.read_bytes() == payload
    # Four connections, each asking for the rest of the file from where the last one broke off.
    assert ranges_asked(server) == [None, f"bytes={MIB}-", f"bytes={2 * MIB}-", f"bytes={3 * MIB}-"]
    assert {request.get("If-Range") for request in server.requests[1:]} == {'"v1"'}
    assert [r.done for r in reports] == sorted(r.done for r in reports)  # progress never goes backwards
    assert reports[-1].done == reports[-1].total == PAYLOAD_BYTES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.weights"]  # no .part, no resume record


def test_a_failed_download_keeps_its_part_and_the_next_call_continues_it(server: FlakyServer, tmp_path: Path) -> None:
    payload = random_bytes(1)
    server.files["w.bin"] = (payload, '"v1"')
    server.cut = 2 * MIB
    dest = tmp_path / "model.weights"
    down_after_first = partial(_go_down_after, server, 1)
    with pytest.raises(ModelDownloadError, match="2 MB already fetched are kept: trying again continues"):
        download([f"{server.url}/w.bin"], dest, down_after_first)
    assert dest.with_name("model.weights.part").stat().st_size == 2 * MIB and not dest.exists()

    server.down, server.cut, server.requests = False, None, []
    download([f"{server.url}/w.bin"], dest, no_progress)  # a later call: the app was restarted, say
    assert dest.read_bytes() == payload
    assert ranges_asked(server) == [f"bytes={2 * MIB}-"]


def test_a_cancelled_download_resumes_on_the_next_call(server: FlakyServer, tmp_path: Path) -> None:
    payload = random_bytes(7)
    server.files["w.bin"] = (payload, '"v1"')
    dest = tmp_path / "model.weights"
    cancel = CancelToken()
    with pytest.raises(Cancelled):
        download([f"{server.url}/w.bin"], dest, lambda report: cancel.cancel(), cancel)
    kept = dest.with_name("model.weights.part").stat().st_size
    assert 0 < kept < PAYLOAD_BYTES
    server.requests = []
    download([f"{server.url}/w.bin"], dest, no_progress)
    assert dest.read_bytes() == payload and ranges_asked(server) == [f"bytes={kept}-"]


def _go_down_after(server: FlakyServer, requests: int, report: Progress) -> None:
    """A progress callback that takes the server down once it has answered `requests` requests."""
    if len(server.requests) >= requests:
        server.down = True


def test_a_file_that_changed_on_the_server_is_fetched_whole_not_spliced(server: FlakyServer, tmp_path: Path) -> None:
    server.files["w.bin"] = (random_bytes(2), '"v1"')
    server.cut = MIB
    dest = tmp_path / "model.weights"
    with pytest.raises(ModelDownloadError):
        download([f"{server.url}/w.bin"], dest, partial(_go_down_after, server, 1))
    assert dest.with_name("model.weights.part").stat().st_size == MIB

    new = random_bytes(3)
    server.files["w.bin"] = (new, '"v2"')
    server.down, server.cut, server.requests = False, None, []
    download([f"{server.url}/w.bin"], dest, no_progress)
    assert dest.read_bytes() == new
    assert server.requests[0].get("If-Range") == '"v1"'  # asked for the rest only if it was still v1


def test_a_server_that_ignores_ranges_and_always_breaks_fails_instead_of_looping(
    server: FlakyServer, tmp_path: Path
) -> None:
    server.files["w.bin"] = (random_bytes(4), '"v1"')
    server.cut, server.honour_ranges = MIB, False
    dest = tmp_path / "model.weights"
    with pytest.raises(ModelDownloadError, match=f"(broke off|stopped) after {MIB} of {PAYLOAD_BYTES} bytes"):
        download([f"{server.url}/w.bin"], dest, no_progress)
    assert len(server.requests) == 2 < RECONNECTS  # the retry got no further, so it stopped there


def test_a_part_longer_than_the_file_starts_over(server: FlakyServer, tmp_path: Path) -> None:
    payload = random_bytes(5)
    server.files["w.bin"] = (payload, '"v1"')
    dest = tmp_path / "model.weights"
    part = dest.with_name("model.weights.part")
    part.write_bytes(payload + b"junk")
    dest.with_name("model.weights.part.json").write_text(f'{{"url": "{server.url}/w.bin", "validator": "\\"v1\\""}}')
    download([f"{server.url}/w.bin"], dest, no_progress)
    assert dest.read_bytes() == payload
    assert ranges_asked(server) == [f"bytes={PAYLOAD_BYTES + 4}-", None]  # refused (416), then whole


def test_a_part_from_another_address_is_not_resumed(server: FlakyServer, tmp_path: Path) -> None:
    payload = random_bytes(6)
    server.files["w.bin"] = (payload, '"v1"')
    dest = tmp_path / "model.weights"
    dest.with_name("model.weights.part").write_bytes(payload[:MIB])
    dest.with_name("model.weights.part.json").write_text('{"url": "https://elsewhere/w.bin", "validator": "\\"v1\\""}')
    download([f"{server.url}/w.bin"], dest, no_progress)
    assert dest.read_bytes() == payload and ranges_asked(server) == [None]
