"""Downloading weights from a real HTTP server on the loopback interface, and loading checkpoints safely.

The only network traffic is to 127.0.0.1: a `ThreadingHTTPServer` serving a temporary folder.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import torch
from PIL import Image

from photosift.core.errors import Cancelled, ModelDownloadError, ModelError
from photosift.core.models.build import build_model
from photosift.core.models.download import download
from photosift.core.models.encoder import Encoder
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec, WeightsSource, load_spec
from photosift.core.models.weights import apply_state_dict, load_state_dict
from photosift.core.progress import CancelToken, Progress, no_progress
from photosift.core.settings import Paths

TEST_MODELS = Path(__file__).resolve().parent / "models"
PAYLOAD_BYTES = 3 * (1 << 20) + 12345  # a few download chunks, and not a multiple of the chunk size


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from the test folder; `/truncated` promises more bytes than it sends."""

    def do_GET(self) -> None:
        if self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """(base URL, folder it serves) for a local HTTP server running in a thread."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # a proxy in the environment must not intercept
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    folder = tmp_path / "served"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=partial(server.serve_forever, poll_interval=0.05), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def payload(served: tuple[str, Path]) -> bytes:
    data = np.random.default_rng(0).integers(0, 256, PAYLOAD_BYTES, dtype=np.uint8).tobytes()
    (served[1] / "weights.bin").write_bytes(data)
    return data


def closed_port_url() -> str:
    """A loopback URL nobody listens on: bind a free port, then release it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/weights.bin"


# --- download ------------------------------------------------------------------------------------


def test_download_streams_with_progress_ending_at_the_total(
    served: tuple[str, Path], payload: bytes, tmp_path: Path
) -> None:
    dest = tmp_path / "models" / "model.weights"
    reports: list[Progress] = []
    assert download([f"{served[0]}/weights.bin"], dest, reports.append) == dest
    assert dest.read_bytes() == payload
    assert not dest.with_name("model.weights.part").exists()
    assert {r.stage for r in reports} == {"download"} and {r.message for r in reports} == {"model.weights"}
    assert all(r.total == PAYLOAD_BYTES for r in reports)
    assert [r.done for r in reports] == sorted(r.done for r in reports)
    assert reports[-1].done == reports[-1].total and reports[-1].rate is not None and reports[-1].eta_s == 0


def test_download_falls_back_to_the_next_url(served: tuple[str, Path], payload: bytes, tmp_path: Path) -> None:
    dest = tmp_path / "model.weights"
    download([f"{served[0]}/missing.bin", f"{served[0]}/weights.bin"], dest, no_progress)
    assert dest.read_bytes() == payload


def test_download_failure_says_what_to_fetch_and_where_to_put_it(served: tuple[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "models" / "model.weights"
    urls = [f"{served[0]}/missing.pth", f"{served[0]}/missing.pt"]
    with pytest.raises(ModelDownloadError) as caught:
        download(urls, dest, no_progress, what="Tiny Model")
    message, details = str(caught.value), caught.value.details
    assert message.startswith("The Tiny Model could not be downloaded: the server answered HTTP 404 File")
    assert message.count("http") == 1 and "are you offline" not in message  # the one URL to fetch, no repeats
    assert f"{urls[0]}: the server answered HTTP 404 File not found" in details and f"{urls[1]}: the server" in details
    assert f"save it as {dest}" in message and "photosift models import" in message
    assert not dest.exists() and not dest.with_name("model.weights.part").exists()


def test_download_offline_fails_fast_and_says_so(tmp_path: Path) -> None:
    url = closed_port_url()
    started = time.monotonic()
    with pytest.raises(ModelDownloadError) as caught:
        download([url], tmp_path / "model.weights", no_progress)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith("The model.weights could not be downloaded: this computer could not reach")
    assert "are you offline?" in message and message.index("offline") < message.index("To install it by hand")
    assert "refused" in caught.value.details.lower() and "refused" not in message.lower()  # the OS error: details


def test_download_of_a_truncated_response_fails(served: tuple[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "model.weights"
    with pytest.raises(ModelDownloadError, match=r"broke off|stopped after 10 of 1000 bytes"):
        download([f"{served[0]}/truncated"], dest, no_progress)
    assert not dest.exists() and not dest.with_name("model.weights.part").exists()


def test_download_verifies_the_checksum(served: tuple[str, Path], payload: bytes, tmp_path: Path) -> None:
    dest = tmp_path / "model.weights"
    with pytest.raises(ModelDownloadError, match="checksum does not match"):
        download([f"{served[0]}/weights.bin"], dest, no_progress, sha256="0" * 64)
    assert not dest.exists()
    download([f"{served[0]}/weights.bin"], dest, no_progress, sha256=hashlib.sha256(payload).hexdigest())
    assert dest.read_bytes() == payload


def test_a_cancelled_download_keeps_its_part_for_the_next_call(
    served: tuple[str, Path], payload: bytes, tmp_path: Path
) -> None:
    dest = tmp_path / "model.weights"
    part = dest.with_name("model.weights.part")
    cancel = CancelToken()
    seen_part: list[bool] = []

    def cancel_on_first_report(report: Progress) -> None:
        seen_part.append(part.exists())
        cancel.cancel()

    with pytest.raises(Cancelled):
        download([f"{served[0]}/weights.bin"], dest, cancel_on_first_report, cancel)
    assert seen_part == [True] and not dest.exists()  # the data went to the .part file...
    assert part.stat().st_size > 0  # ...which stays (test_download_resume shows it resumed)
    download([f"{served[0]}/weights.bin"], dest, no_progress)
    assert dest.read_bytes() == payload and not part.exists()


# --- load_state_dict and apply_state_dict --------------------------------------------------------


@pytest.fixture(scope="module")
def tiny() -> ModelSpec:
    return load_spec(TEST_MODELS / "tiny.json")


@pytest.fixture(scope="module")
def tiny_state(tiny: ModelSpec) -> dict[str, torch.Tensor]:
    return {key: value.clone() for key, value in build_model(tiny).state_dict().items()}


def assert_same_state(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    assert sorted(got) == sorted(want)  # safetensors files keep keys sorted
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=0)


def test_loads_safetensors_by_extension_or_by_content(tiny_state: dict[str, torch.Tensor], tmp_path: Path) -> None:
    named = tmp_path / "model.safetensors"
    safetensors.torch.save_file(tiny_state, str(named))
    assert_same_state(load_state_dict(named), tiny_state)
    unnamed = tmp_path / "model.weights"  # the downloader keeps one name whatever format arrived
    unnamed.write_bytes(named.read_bytes())
    assert_same_state(load_state_dict(unnamed), tiny_state)


@pytest.mark.parametrize("layout", ["plain", "state_dict", "model", "module", "wrapped module", "compiled"])
def test_loads_torch_checkpoints_in_common_layouts(
    tiny_state: dict[str, torch.Tensor], tmp_path: Path, layout: str
) -> None:
    contents: object = {
        "plain": tiny_state,
        "state_dict": {"state_dict": tiny_state, "epoch": 3},
        "model": {"model": tiny_state, "step": 10},
        "module": {f"module.{k}": v for k, v in tiny_state.items()},
        "wrapped module": {"state_dict": {f"module.{k}": v for k, v in tiny_state.items()}},
        "compiled": {f"_orig_mod.{k}": v for k, v in tiny_state.items()},
    }[layout]
    path = tmp_path / "model.pth"
    torch.save(contents, path)
    assert_same_state(load_state_dict(path), tiny_state)


def test_legacy_non_zip_pickles_load_too(tiny_state: dict[str, torch.Tensor], tmp_path: Path) -> None:
    path = tmp_path / "old.pt"
    torch.save(tiny_state, path, _use_new_zipfile_serialization=False)
    assert_same_state(load_state_dict(path), tiny_state)


class Trap:
    """Unpickling this would run `Path.touch(marker)`: proof that code in a checkpoint ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.marker,))


def test_a_checkpoint_holding_objects_is_refused_without_running_them(
    tiny_state: dict[str, torch.Tensor], tmp_path: Path
) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": tiny_state, "extra": Trap(marker)}, path)
    with pytest.raises(ModelError, match="holds Python code or objects besides weights") as refused:
        load_state_dict(path)
    assert not marker.exists()
    assert "weights_only" not in str(refused.value)


@pytest.mark.parametrize(
    ("contents", "said"),
    [
        (b"\x00garbage, not a checkpoint" * 100, "is not a model checkpoint"),
        (b"", "is not a model checkpoint"),
        (b'\x10\x00\x00\x00\x00\x00\x00\x00{"bad": json}', "is not a model checkpoint"),
    ],
)
def test_garbage_is_not_a_checkpoint(tmp_path: Path, contents: bytes, said: str) -> None:
    path = tmp_path / "model.pth"
    path.write_bytes(contents)
    with pytest.raises(ModelError, match=said):
        load_state_dict(path)


def test_a_dict_without_tensors_is_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "model.pth"
    torch.save({"epoch": 3, "lr": 0.1}, path)
    with pytest.raises(ModelError, match="the entry 'epoch' is not a tensor"):
        load_state_dict(path)
    torch.save({}, path)
    with pytest.raises(ModelError, match="holds no state dict"):
        load_state_dict(path)
    with pytest.raises(ModelError, match="does not exist"):
        load_state_dict(tmp_path / "missing.pth")


def test_a_checkpoint_of_another_shape_does_not_fit(tiny: ModelSpec) -> None:
    wide = build_model(load_spec(TEST_MODELS / "tiny-wide.json")).state_dict()
    with pytest.raises(ModelError, match=r"The checkpoint does not fit tiny: \d+ wrong shapes, e.g. visual\."):
        apply_state_dict(build_model(tiny), wide, "tiny")


def test_missing_and_unexpected_keys_are_counted(tiny: ModelSpec, tiny_state: dict[str, torch.Tensor]) -> None:
    state = dict(tiny_state)
    del state["text_projection"], state["ln_final.weight"]
    state["head.extra"] = torch.zeros(3)
    with pytest.raises(ModelError) as caught:
        apply_state_dict(build_model(tiny), state, "tiny")
    message = str(caught.value)
    assert "2 missing keys, e.g. " in message and "text_projection" in message and "ln_final.weight" in message
    assert "1 unexpected key, e.g. head.extra" in message


def test_one_element_tensors_are_reshaped_not_refused(tiny: ModelSpec, tiny_state: dict[str, torch.Tensor]) -> None:
    state = dict(tiny_state)
    state["logit_scale"] = torch.tensor([2.5])  # 1-d where the model has a 0-d parameter
    model = build_model(tiny)
    apply_state_dict(model, state, "tiny")
    assert model.logit_scale.item() == 2.5  # type: ignore[operator]


# --- the encoder downloads what it needs ---------------------------------------------------------


def test_encoder_downloads_missing_weights_then_loads_them(
    served: tuple[str, Path], tiny: ModelSpec, tmp_path: Path
) -> None:
    model = build_model(tiny)
    with torch.no_grad():
        for param in model.parameters():
            param.mul_(-1.5)
    safetensors.torch.save_file(model.state_dict(), str(served[1] / "open_clip_model.safetensors"))
    spec_file = tmp_path / "served-tiny.json"
    spec = json.loads((TEST_MODELS / "tiny.json").read_text())
    del spec["random_init"]
    spec |= {
        "name": "served-tiny",
        "open_clip_config": str(TEST_MODELS / "tiny-arch.json"),
        "weights": {"urls": [f"{served[0]}/gone.pth", f"{served[0]}/open_clip_model.safetensors"], "filename": "t.w"},
    }
    spec_file.write_text(json.dumps(spec))
    paths = Paths(tmp_path / "home")
    registry = ModelRegistry(paths)
    served_spec = registry.resolve(str(spec_file))
    assert not registry.is_downloaded(served_spec)

    encoder = Encoder(served_spec, paths, "cpu")
    reports: list[Progress] = []
    encoder.load(reports.append)

    assert registry.is_downloaded(served_spec) and (paths.models / "t.w").is_file()
    assert reports[0].stage == "download"
    assert reports[-1] == Progress("load", 1, 1, message=f"Loading {served_spec.title}")
    batch = encoder.preprocess(Image.new("RGB", (48, 40), (200, 30, 30)))[None]
    with torch.inference_mode():
        want = torch.nn.functional.normalize(model.encode_image(torch.from_numpy(batch)), dim=-1).numpy()
    np.testing.assert_allclose(encoder.encode_images(batch), want, atol=1e-5)


def test_encoder_reports_a_missing_imported_checkpoint(tiny: ModelSpec, tmp_path: Path) -> None:
    spec = replace(tiny, random_init=False, checkpoint=tmp_path / "gone.pth")
    with pytest.raises(ModelError, match=r"The checkpoint .*gone\.pth of the tiny model is missing"):
        Encoder(spec, Paths(tmp_path / "home"), "cpu").load()


def test_a_web_page_is_not_accepted_as_weights(served: tuple[str, Path], tmp_path: Path) -> None:
    (served[1] / "login.html").write_text("<html>Please sign in</html>")
    with pytest.raises(ModelDownloadError, match="sent a web page instead of the file"):
        download([f"{served[0]}/login.html"], tmp_path / "model.weights", no_progress)


def test_damaged_downloaded_weights_say_how_to_fetch_them_again(tiny: ModelSpec, tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    spec = replace(tiny, random_init=False, weights=WeightsSource(("https://example.invalid/w",), "tiny.weights"))
    paths.models.mkdir(parents=True)
    (paths.models / "tiny.weights").write_bytes(b"not weights at all")
    with pytest.raises(ModelError, match=r"is not a model checkpoint .* Delete .*tiny\.weights to download it again"):
        Encoder(spec, paths, "cpu").load()


def test_a_file_that_is_no_pickle_is_refused_without_torchs_advice(tmp_path: Path) -> None:
    path = tmp_path / "notes.pt"
    path.write_text("not weights")
    with pytest.raises(ModelError, match="is not a model checkpoint") as refused:
        load_state_dict(path)
    assert "weights_only" not in str(refused.value)
