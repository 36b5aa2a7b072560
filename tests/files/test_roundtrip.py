"""Large files through a real Runtime: 10 MB in and out, byte for byte (spec §8.4, §10.4-§10.5).

Inputs arrive by http URL from the loopback peer or as data URIs; outputs
leave as data URIs or as uploads to the same peer. Sync predictors return a
path, async ones a file object, so both conversion paths are covered.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from tests.runner.helpers import running

from .helpers import data_uri, decode_data_uri, load, sha256
from .peer import Peer

SIZE = 10 * 1000 * 1000


@pytest.fixture(scope="module")
def payload() -> bytes:
    return os.urandom(SIZE)


@pytest.mark.parametrize("predictor", ["copy_sync", "copy_async"])
@pytest.mark.parametrize("source", ["http", "data"])
@pytest.mark.parametrize("sink", ["data", "upload"])
async def test_ten_megabytes_round_trip(
    peer: Peer,
    payload: bytes,
    out_dir: Path,
    watched_tmp: Path,
    predictor: str,
    source: str,
    sink: str,
) -> None:
    module = load(predictor, out_dir)
    peer.files["input.bin"] = payload
    url = f"{peer.base}/files/input.bin" if source == "http" else data_uri(payload)
    upload_url = f"{peer.base}/upload/" if sink == "upload" else None
    try:
        async with running(module.Predictor, upload_url=upload_url) as runtime:
            result = await runtime.predict({"doc": url})
    finally:
        for handle in getattr(module, "HELD", []):
            handle.close()
    assert result["status"] == "succeeded", result["error"]
    if sink == "data":
        media_type, body = decode_data_uri(result["output"])
        assert media_type == "application/octet-stream"
        assert sha256(body) == sha256(payload)
        assert peer.uploads == []
    else:
        [upload] = peer.uploads
        assert len(upload.body) == SIZE and upload.sha256 == sha256(payload)
        assert upload.content_length == str(SIZE)
        assert upload.prediction_id == result["id"]
        assert result["output"] == f"{peer.base}/stored{upload.path}"
    assert peer.gets == (["/files/input.bin"] if source == "http" else [])
    assert len(module.CALLS) == 1
    assert list(watched_tmp.iterdir()) == []


async def test_fifty_mebibyte_upload_in_a_sync_request_is_quick(peer: Peer, out_dir: Path) -> None:
    """Cog's harness gives the whole sync request 10 s; we want a wide margin."""
    module = load("big_output", out_dir)
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        started = time.perf_counter()
        result = await runtime.predict({"mib": 50})
        elapsed = time.perf_counter() - started
    assert result["status"] == "succeeded", result["error"]
    [upload] = peer.uploads
    assert upload.path == "/upload/big.bin" and len(upload.body) == 50 * 1024 * 1024
    assert upload.sha256 == sha256((out_dir / "big.bin").read_bytes())
    assert upload.content_type == "application/octet-stream"
    assert result["output"] == f"{peer.base}/stored/upload/big.bin"
    assert elapsed < 5.0, f"50 MiB prediction with upload took {elapsed:.2f} s"
    print(f"50 MiB write + upload: {elapsed:.3f} s")


@pytest.mark.parametrize("predictor", ["copy_sync", "copy_async"])
async def test_a_large_data_uri_output_does_not_stall_the_loop(
    out_dir: Path, tmp_path: Path, predictor: str
) -> None:
    """Base64 of 48 MiB runs in a thread in blocks, so the loop keeps its turns.

    One-shot ``b64encode`` + ``decode`` of that much held the GIL (and so the
    loop) for over 600 ms on the machine this was written on; block-wise, the
    longest stall was ~65 ms (the final join). 250 ms leaves room for slow CI.
    """
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(48 * 1024 * 1024))
    module = load(predictor, out_dir)
    gaps: list[float] = []
    try:
        async with running(module.Predictor) as runtime:
            prediction = runtime.start(
                runtime.decode_request(
                    b'{"input":{"doc":"%s"}}' % str(source).encode(), local_paths=True
                )
            )

            async def tick() -> None:
                last = time.perf_counter()
                while True:
                    await asyncio.sleep(0.001)
                    now = time.perf_counter()
                    gaps.append(now - last)
                    last = now

            ticker = asyncio.ensure_future(tick())
            try:
                await asyncio.wait_for(prediction.wait(), 30)
            finally:
                ticker.cancel()
    finally:
        for handle in getattr(module, "HELD", []):
            handle.close()
    assert prediction.status == "succeeded", prediction.error
    assert len(prediction.snapshot()["output"]) > 64 * 1024 * 1024
    assert max(gaps) < 0.25, f"the loop stalled for {max(gaps) * 1000:.0f} ms"
    print(f"{predictor}: longest loop stall {max(gaps) * 1000:.1f} ms over {len(gaps)} ticks")
