"""Large files through a real Runtime: 10 MB in and out, byte for byte (spec §8.4, §10.4-§10.5).

Inputs arrive by http URL from the loopback peer or as data URIs; outputs
leave as data URIs or as uploads to the same peer. Sync predictors return a
path, async ones a file object, so both conversion paths are covered.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.support.data_uris import data_uri, decode_data_uri, sha256
from tests.support.file_peer import Peer
from tests.support.harness import running
from tests.support.predictors import TRANSFER

load = TRANSFER.load

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


async def test_fifty_mebibyte_upload_in_a_sync_request_arrives_whole(
    peer: Peer, out_dir: Path
) -> None:
    """How long it takes is a benchmark figure (``benchmarks/files_io.py``), not a test."""
    module = load("big_output", out_dir)
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        result = await runtime.predict({"mib": 50})
    assert result["status"] == "succeeded", result["error"]
    [upload] = peer.uploads
    assert upload.path == "/upload/big.bin" and len(upload.body) == 50 * 1024 * 1024
    assert upload.sha256 == sha256((out_dir / "big.bin").read_bytes())
    assert upload.content_type == "application/octet-stream"
    assert result["output"] == f"{peer.base}/stored/upload/big.bin"


@pytest.mark.parametrize("kind", ["Predictor", "AsyncPredictor"], ids=["sync", "async"])
async def test_a_large_data_uri_output_leaves_the_loop_its_turns(kind: str) -> None:
    """Base64 of 48 MiB runs off the loop in blocks, so the loop keeps its turns.

    One ``b64encode`` of the whole file would hold the GIL, and so the loop,
    in one C call. A loop task counts its turns and the output file notes the
    count at each read: it must move between reads, i.e. the loop ran while
    the file was being encoded. No time is measured; the longest stall is a
    benchmark figure (``benchmarks/files_io.py``).
    """
    module = load("ticking_output")
    payload = module.PAYLOAD = os.urandom(48 * 1024 * 1024)

    async def tick() -> None:
        while True:
            await asyncio.sleep(0)
            module.TICKS[0] += 1

    async with running(getattr(module, kind)) as runtime:
        prediction = runtime.start(runtime.decode_request(b"{}"))
        ticker = asyncio.ensure_future(tick())
        try:
            await asyncio.wait_for(prediction.wait(), 30)
        finally:
            ticker.cancel()
    assert prediction.status == "succeeded", prediction.error
    [uri] = prediction.snapshot()["output"]
    media_type, body = decode_data_uri(uri)
    assert media_type == "application/octet-stream"
    assert sha256(body) == sha256(payload)
    seen = module.SEEN
    turns = sum(1 for before, after in zip(seen, seen[1:]) if after > before)
    assert turns >= 2, f"the loop ran between only {turns} of {len(seen) - 1} reads"
