"""File outputs with an upload URL (spec §10.4-§10.5): what is PUT, and what the output becomes.

Every test talks to the loopback peer over TCP; the peer records each PUT
(path, query, Content-Type, body) and answers 200 with a ``Location``
carrying a query string that must not reach the output.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from pathlib import Path

import pytest

from cogrt.transfer import uploads
from tests.support.data_uris import decode_data_uri
from tests.support.file_peer import Peer, refusing
from tests.support.harness import running
from tests.support.predictors import TRANSFER

load = TRANSFER.load


def stored(peer: Peer, path: str) -> str:
    return f"{peer.base}/stored{path}"


@pytest.mark.parametrize("predictor", ["iterator_paths", "async_iterator_paths"])
async def test_each_yielded_file_is_uploaded_in_order(
    peer: Peer, out_dir: Path, predictor: str
) -> None:
    module = load(predictor, out_dir)
    names = (
        ["0.txt", "1.txt", "2.txt"]
        if predictor == "iterator_paths"
        else ["a0.png", "a1.png", "a2.png"]
    )
    chunks: list[object] = []
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        prediction = runtime.start(runtime.decode_request(b'{"input":{"count":3}}'))
        prediction.add_listener(lambda event, data: event == "output" and chunks.append(data))
        await asyncio.wait_for(prediction.wait(), 10)
        result = prediction.snapshot()
    assert result["status"] == "succeeded", result["error"]
    # uploads of successive yields may overlap, so they can arrive in any order
    assert sorted(u.path for u in peer.uploads) == [f"/upload/{n}" for n in names]
    assert result["output"] == [stored(peer, f"/upload/{n}") for n in names]
    # every output event already carries the URL, never a placeholder or a data URI
    assert chunks == [{"chunk": url, "index": i} for i, url in enumerate(result["output"])]
    expected_type = "text/plain" if predictor == "iterator_paths" else "image/png"
    assert {u.content_type for u in peer.uploads} == {expected_type}
    assert {u.prediction_id for u in peer.uploads} == {result["id"]}
    bodies = {u.path: u.body for u in peer.uploads}
    assert bodies == {f"/upload/{n}": (out_dir / n).read_bytes() for n in names}


async def test_yielded_uploads_overlap_but_publish_in_production_order(
    peer: Peer, out_dir: Path
) -> None:
    """The first upload is held until the next two arrived: they ran concurrently,
    yet the output, and each output event, keeps the order of the yields."""
    module = load("iterator_paths", out_dir)
    peer.hold["0.txt"] = asyncio.Event()
    events: list[tuple[str, object]] = []
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        body = b'{"input":{"count":3,"text_between":true}}'
        prediction = runtime.start(runtime.decode_request(body))
        prediction.add_listener(lambda event, data: events.append((event, data)))
        await peer.until(lambda: {"1.txt", "2.txt"} <= {u.path[8:] for u in peer.uploads})
        assert not [e for e in events if e[0] == "output" and e[1]["index"] > 0]
        peer.hold["0.txt"].set()
        await asyncio.wait_for(prediction.wait(), 10)
        result = prediction.snapshot()
    assert result["status"] == "succeeded", result["error"]
    assert sorted(u.path for u in peer.uploads) == [f"/upload/{i}.txt" for i in range(3)]
    expected = []
    for i in range(3):
        expected += [f"text-{i}", stored(peer, f"/upload/{i}.txt")]
    assert result["output"] == expected
    outputs = [data for event, data in events if event == "output"]
    assert outputs == [{"chunk": c, "index": i} for i, c in enumerate(expected)]


@pytest.mark.parametrize("count", [1, 3])
async def test_a_list_of_paths_stays_a_list(peer: Peer, out_dir: Path, count: int) -> None:
    module = load("list_paths", out_dir)
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        result = await runtime.predict({"count": count})
    assert result["status"] == "succeeded", result["error"]
    paths = [f"/upload/list-{i}.txt" for i in range(count)]
    assert result["output"] == [stored(peer, p) for p in paths]
    assert sorted(u.path for u in peer.uploads) == paths


async def test_files_nested_in_models_dicts_and_lists_are_uploaded(
    peer: Peer, out_dir: Path
) -> None:
    module = load("nested", out_dir)
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        result = await runtime.predict({})
    assert result["status"] == "succeeded", result["error"]
    assert result["output"] == {
        "image": stored(peer, "/upload/main.png"),
        "extras": {
            "thumbs": [stored(peer, "/upload/t0.jpg"), [stored(peer, "/upload/t1.jpg")]],
            "blob": stored(peer, "/upload/3.bin"),  # unnamed: numbered by output position
            "count": 3,
        },
        "caption": "nested",
    }
    bodies = {u.path: (u.content_type, u.body) for u in peer.uploads}
    assert bodies == {
        "/upload/main.png": ("image/png", b"png bytes"),
        "/upload/t0.jpg": ("image/jpeg", b"jpeg 0"),
        "/upload/t1.jpg": ("image/jpeg", b"jpeg 1"),
        "/upload/3.bin": ("application/octet-stream", b"raw bytes"),
    }


async def test_without_upload_url_nested_files_are_data_uris(out_dir: Path) -> None:
    module = load("nested", out_dir)
    async with running(module.Predictor) as runtime:
        result = await runtime.predict({})
    output = result["output"]
    assert decode_data_uri(output["image"]) == ("image/png", b"png bytes")
    assert decode_data_uri(output["extras"]["thumbs"][1][0]) == ("image/jpeg", b"jpeg 1")
    assert decode_data_uri(output["extras"]["blob"]) == ("application/octet-stream", b"raw bytes")


@pytest.mark.parametrize(
    ("location", "upload_path", "expected"),
    [
        ("absolute", "/upload/?token=t", "{base}/stored/upload/list-0.txt"),
        ("relative", "/upload/?token=t", "{base}/stored/list-0.txt"),
        ("none", "/upload/?token=t", "{base}/upload/list-0.txt"),
        ("none", "/upload", "{base}/upload/list-0.txt"),  # the "/" is added
        ("absolute", "/redirect/", "{base}/stored/upload/list-0.txt"),  # 307, body re-sent
    ],
)
async def test_output_url_is_the_location_or_the_put_url_without_query(
    peer: Peer, out_dir: Path, location: str, upload_path: str, expected: str
) -> None:
    peer.location = location
    module = load("list_paths", out_dir)
    async with running(module.Predictor, upload_url=peer.base + upload_path) as runtime:
        result = await runtime.predict({"count": 1})
    assert result["status"] == "succeeded", result["error"]
    assert result["output"] == [expected.format(base=peer.base)]
    [upload] = peer.uploads
    assert upload.path == "/upload/list-0.txt" and upload.body == b"list 0"
    assert upload.query == ("token=t" if "token" in upload_path else "")


@pytest.mark.parametrize("predictor", ["list_paths", "iterator_paths"])
async def test_upload_refused_fails_the_prediction_naming_the_file(
    peer: Peer, out_dir: Path, predictor: str
) -> None:
    name = "list-1.txt" if predictor == "list_paths" else "1.txt"
    peer.fail[name] = 500
    module = load(predictor, out_dir)
    count = 3 if predictor == "list_paths" else 300
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        result = await runtime.predict({"count": count})
    assert result["status"] == "failed"
    error = result["error"]
    assert error.startswith("OutputUploadError: Got error trying to upload output files")
    assert f"'{name}'" in error and "500 Internal Server Error" in error
    assert "after 4 attempts" in error and peer.attempts[name] == 4  # 500 is retried
    if predictor == "iterator_paths":
        # the yield before the failure was published; nothing after it was. The
        # generator waited (64 chunks at most wait for uploads) and was stopped.
        assert result["output"] == [stored(peer, "/upload/0.txt")]
        written = len(list(out_dir.iterdir()))
        assert written < 100, f"the generator ran on to {written} files"


async def test_client_errors_are_not_retried(peer: Peer, out_dir: Path) -> None:
    peer.fail["list-0.txt"] = 403
    module = load("list_paths", out_dir)
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        result = await runtime.predict({"count": 1})
    assert result["status"] == "failed"
    assert "'list-0.txt'" in result["error"] and "403 Forbidden" in result["error"]
    assert peer.attempts["list-0.txt"] == 1


async def test_unreachable_upload_server_fails_the_prediction(
    out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    module = load("list_paths", out_dir)
    async with refusing() as base, running(module.Predictor, upload_url=f"{base}/up/") as runtime:
        result = await runtime.predict({"count": 1})
    assert result["status"] == "failed"
    assert "'list-0.txt'" in result["error"] and "failed:" in result["error"]


async def test_missing_output_file_fails_the_prediction(peer: Peer, tmp_path: Path) -> None:
    module = load("list_paths", tmp_path / "does-not-exist")
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        result = await runtime.predict({"count": 1})
    assert result["status"] == "failed" and peer.uploads == []


async def test_terminal_state_waits_for_uploads(peer: Peer, out_dir: Path) -> None:
    """The sync response and the terminal event carry URLs: nothing ends before the PUTs."""
    peer.hold["list-0.txt"] = asyncio.Event()
    module = load("list_paths", out_dir)
    completed: list[object] = []
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        prediction = runtime.start(runtime.decode_request(b'{"input":{"count":1}}'))
        prediction.add_listener(lambda event, data: event == "completed" and completed.append(data))
        await peer.until(lambda: len(peer.uploads) == 1)
        assert prediction.status == "processing" and not completed
        assert runtime.status == "BUSY"
        peer.hold["list-0.txt"].set()
        await asyncio.wait_for(prediction.wait(), 10)
    [snapshot] = completed
    assert snapshot["status"] == "succeeded"
    assert snapshot["output"] == [stored(peer, "/upload/list-0.txt")]


async def test_cancel_aborts_uploads_in_flight(peer: Peer, out_dir: Path) -> None:
    peer.hold["list-0.txt"] = asyncio.Event()
    module = load("list_paths", out_dir)
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        prediction = runtime.start(runtime.decode_request(b'{"input":{"count":1}}'))
        await peer.until(lambda: len(peer.uploads) == 1)
        prediction.cancel()
        await asyncio.wait_for(prediction.wait(), 5)  # the held PUT never got an answer
        assert prediction.status == "canceled"
        assert runtime.status == "READY"


async def test_an_upload_canceled_twice_still_closes_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second cancel of a failing prediction's upload (its siblings' cleanup) must not
    drop the close of the file it opened: it was once a close waiting for a busy executor
    thread, and CI saw the file left open (a ResourceWarning in a later test)."""
    output = tmp_path / "out.txt"
    output.write_text("chunk")
    bodies: list[object] = []
    uploading = asyncio.Event()

    async def hang(_filename: str, body: object) -> str:
        bodies.append(body)
        busy.append(loop.run_in_executor(None, release.wait, 30))  # the one thread, taken
        uploading.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    # The loop's executor has one thread, busy once the file is open: a close sent there waits.
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=1))
    release = threading.Event()
    busy: list[asyncio.Future[bool]] = []
    uploader = uploads.Uploader(None, "http://127.0.0.1:9/", prediction_id="p")  # type: ignore[arg-type]
    monkeypatch.setattr(uploader, "_upload", hang)
    task = asyncio.ensure_future(uploader(uploads.PendingFile(output, "out.txt", 0)))
    await asyncio.wait_for(uploading.wait(), 10)
    task.cancel()
    await asyncio.sleep(0)  # the first cancel lands; cleanup begins
    task.cancel()  # and a second one while it cleans up
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    await asyncio.gather(*busy)
    (body,) = bodies
    assert body._handle.closed  # type: ignore[attr-defined]
