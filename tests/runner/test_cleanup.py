"""File inputs (spec §8.4) and the per-prediction temp dir: fetched before predict(),
failures named, and nothing left behind however a prediction ends.

``watched_tmp`` points ``tempfile.tempdir`` at a folder of the test's own, so
"nothing left behind" is an exact ``== []``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import msgspec
import pytest

from cogrt.runner.prediction import Prediction
from cogrt.runner.runtime import Runtime
from cogrt.transfer.http_client import MAX_REDIRECTS
from tests.support.data_uris import data_uri, decode_data_uri
from tests.support.file_peer import Peer, refusing
from tests.support.harness import running
from tests.support.predictors import TRANSFER

# The runtime's side of file inputs, with the file tests' predictors.
load = TRANSFER.load


def start(runtime: Runtime, inputs: dict[str, object]) -> Prediction:
    return runtime.start(runtime.decode_request(msgspec.json.encode({"input": inputs})))


async def test_inputs_are_fetched_concurrently_before_predict(
    peer: Peer, watched_tmp: Path
) -> None:
    module = load("records_calls")
    peer.files["a.txt"] = b"from http "
    async with running(module.Predictor) as runtime:
        result = await runtime.predict(
            {"first": f"{peer.base}/files/a.txt", "second": data_uri(b"from data", "text/plain")}
        )
    assert result["status"] == "succeeded", result["error"]
    assert result["output"] == "from http from data"
    [(first, second)] = module.CALLS
    assert first.name.endswith("a.txt") and second.name.endswith("file.txt")
    assert first.parent.parent == watched_tmp  # the prediction's own dir ...
    assert list(watched_tmp.iterdir()) == []  # ... gone once it ended


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        ("{refused}/files/a.txt", "failed to download {refused}/files/a.txt"),
        ("{base}/files/missing.txt?sig=secret", "returned 404 Not Found"),
        ("data:text/plain;base64,@@not-base64", "not valid base64"),
        ("data:text/plain;base64", "no ','"),
        ("{base}/hops/" + str(MAX_REDIRECTS + 1), f"more than {MAX_REDIRECTS} redirects"),
    ],
)
async def test_bad_input_fails_naming_it_and_predict_is_never_called(
    peer: Peer, watched_tmp: Path, first: str, reason: str
) -> None:
    module = load("records_calls")
    async with refusing() as refused, running(module.Predictor) as runtime:
        url = first.format(base=peer.base, refused=refused)
        result = await runtime.predict({"first": url, "second": data_uri(b"fine")})
        expected_reason = reason.format(refused=refused)
    assert result["status"] == "failed"
    assert result["error"].startswith("InputDownloadError: Input validation error: ")
    assert expected_reason in result["error"]
    assert result["error"].endswith("for input 'first'")
    assert "secret" not in result["error"]
    assert module.CALLS == []
    assert result["started_at"] is None  # it never reached predict()
    assert list(watched_tmp.iterdir()) == []


async def test_redirects_up_to_the_limit_are_followed(peer: Peer, watched_tmp: Path) -> None:
    module = load("records_calls")
    async with running(module.Predictor) as runtime:
        url = f"{peer.base}/hops/{MAX_REDIRECTS}"
        result = await runtime.predict({"first": url, "second": data_uri(b"!")})
    assert result["status"] == "succeeded", result["error"]
    assert result["output"] == "arrived!"
    assert len(peer.gets) == MAX_REDIRECTS + 1


async def test_str_inputs_that_look_like_urls_stay_strings(peer: Peer) -> None:
    module = load("str_url")
    async with running(module.Predictor) as runtime:
        for value in (f"{peer.base}/files/x.txt", "data:text/plain;base64,aGk="):
            result = await runtime.predict({"url": value})
            assert result["output"] == f"str:{value}"
    assert peer.gets == []


async def test_cancel_during_a_slow_download(peer: Peer, watched_tmp: Path) -> None:
    module = load("copy_sync")
    async with running(module.Predictor) as runtime:
        prediction = start(runtime, {"doc": f"{peer.base}/trickle/slow.bin"})
        await asyncio.wait_for(peer.trickling.wait(), 5)
        [download_dir] = watched_tmp.iterdir()  # the download is really under way
        assert prediction.status == "starting"
        prediction.cancel()
        await asyncio.wait_for(prediction.wait(), 5)
        assert prediction.status == "canceled"
        assert not download_dir.exists() and list(watched_tmp.iterdir()) == []
        assert module.CALLS == []
        # the runtime is free for the next prediction straight away
        peer.files["next.bin"] = b"next"
        module.OUT_DIR = str(watched_tmp.parent / "out")
        Path(module.OUT_DIR).mkdir()
        result = await runtime.predict({"doc": f"{peer.base}/files/next.bin"})
        assert result["status"] == "succeeded", result["error"]


async def test_temp_dir_goes_even_while_user_code_holds_the_input(
    peer: Peer, watched_tmp: Path
) -> None:
    module = load("copy_async")
    peer.files["held.txt"] = b"held"
    try:
        async with running(module.Predictor) as runtime:
            prediction = start(runtime, {"doc": f"{peer.base}/files/held.txt", "mode": "hold"})
            await asyncio.wait_for(module.HOLDING.wait(), 5)
            assert len(list(watched_tmp.iterdir())) == 1
            prediction.cancel()
            await asyncio.wait_for(prediction.wait(), 5)
            assert prediction.status == "canceled"
            assert list(watched_tmp.iterdir()) == []
            assert module.HELD[0].read() == b"held"  # still readable: unlinked, not broken
    finally:
        for handle in module.HELD:
            handle.close()


async def test_five_hundred_predictions_leave_the_temp_dir_empty(
    peer: Peer, watched_tmp: Path, out_dir: Path
) -> None:
    """Successes, failures (in download, in predict, in upload) and cancels (in
    download, in predict, in upload), on one runtime with an upload URL and one
    without; afterwards the temp dir holds nothing."""
    rng = random.Random(5)
    payload = bytes(range(256)) * 64  # 16 KiB
    peer.files["in.bin"] = payload
    peer.fail["copy-refuse.bin"] = 403  # not retried: keeps the test fast
    kinds = [
        "http",
        "data",
        "predict-fails",
        "bad-data-uri",
        "unreachable",
        "upload-fails",
        "cancel-download",
        "cancel-predict",
        "cancel-upload",
    ]
    statuses: Counter[tuple[str, str]] = Counter()
    sync_module = load("copy_sync", out_dir)
    async_module = load("copy_async")
    started = time.perf_counter()
    try:
        async with (
            refusing() as refused,
            running(sync_module.Predictor, upload_url=f"{peer.base}/upload/") as uploading,
            running(sync_module.Predictor) as inlining,
            running(async_module.Predictor, concurrency=4) as async_runtime,
        ):
            for i in range(500):
                kind = kinds[i % len(kinds)]
                runtime = (uploading, inlining, async_runtime)[rng.randrange(3)]
                if kind in ("upload-fails", "cancel-upload"):
                    runtime = uploading
                if kind == "cancel-predict" and runtime is async_runtime:
                    runtime = inlining
                status = await _one(runtime, kind, peer, refused, payload, sync_module)
                statuses[(kind, status)] += 1
    finally:
        for handle in async_module.HELD:
            handle.close()
    elapsed = time.perf_counter() - started
    expected = {
        "http": "succeeded",
        "data": "succeeded",
        "predict-fails": "failed",
        "bad-data-uri": "failed",
        "unreachable": "failed",
        "upload-fails": "failed",
        "cancel-download": "canceled",
        "cancel-predict": "canceled",
        "cancel-upload": "canceled",
    }
    assert {kind: status for kind, status in statuses} == expected, statuses
    assert sum(statuses.values()) == 500
    assert list(watched_tmp.iterdir()) == []
    print(f"500 predictions in {elapsed:.2f} s: {dict(statuses)}")


async def _one(
    runtime: Runtime, kind: str, peer: Peer, refused: str, payload: bytes, module: ModuleType
) -> str:
    """Run one prediction of ``kind`` to its end and check its output; returns its status."""
    doc = data_uri(payload) if kind == "data" else f"{peer.base}/files/in.bin"
    mode = "copy"
    if kind == "predict-fails":
        mode = "fail"
    elif kind == "bad-data-uri":
        doc = "data:application/octet-stream;base64,!!"
    elif kind == "unreachable":
        doc = f"{refused}/in.bin"
    elif kind == "upload-fails":
        mode = "refuse"
    elif kind == "cancel-download":
        doc = f"{peer.base}/trickle/in.bin"
        peer.trickling.clear()
    elif kind == "cancel-predict":
        mode = "block"
        module.STARTED.clear()
        module.RELEASE.clear()
    elif kind == "cancel-upload":
        mode = "hold"
        peer.hold["copy-hold.bin"] = asyncio.Event()
    uploads_before = len(peer.uploads)
    prediction = start(runtime, {"doc": doc, "mode": mode})
    if kind == "cancel-download":
        await asyncio.wait_for(peer.trickling.wait(), 5)
        prediction.cancel()
    elif kind == "cancel-predict":
        await asyncio.wait_for(asyncio.to_thread(module.STARTED.wait, 5), 6)
        prediction.cancel()
    elif kind == "cancel-upload":
        await peer.until(lambda: len(peer.uploads) > uploads_before)
        prediction.cancel()
    await asyncio.wait_for(prediction.wait(), 10)
    if kind == "cancel-upload":
        peer.hold["copy-hold.bin"].set()  # let the peer finish the abandoned request
    snapshot = prediction.snapshot()
    if snapshot["status"] == "succeeded":
        output = snapshot["output"]
        if output.startswith("data:"):
            assert decode_data_uri(output)[1] == payload
        else:
            assert peer.uploads[-1].body == payload and output.startswith(peer.base + "/stored/")
    return str(snapshot["status"])
