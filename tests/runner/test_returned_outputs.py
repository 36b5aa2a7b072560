"""Returned temp files are deleted once used (issue 16; the seed documents' promise).

Every output shape, data URIs and uploads, sync and async predictors,
trainings, success, failure, upload failure and cancel mid-stream: the temp
dir (``watched_tmp``) holds after the prediction exactly what it held before.
Files the model keeps (its own folder, what ``setup()`` made) survive.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cogrt.runner.runtime import Runtime
from tests.support.data_uris import decode_data_uri
from tests.support.file_peer import Peer
from tests.support.harness import running
from tests.support.predictors import RUNNER

load = RUNNER.load

SHAPES = {
    "path": ["one"],
    "list": ["a", "b"],
    "twice": ["twice", "twice"],
    "dict": ["first", "d"],
    "model": ["png"],
    "one_dir": ["x.txt", "y.txt"],
}
"""Each shape's file contents, in output order."""


def contents(output: Any, peer: Peer | None) -> list[str]:
    """The text of every file in ``output`` (data URIs, or what the peer received), in order."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str) and value.startswith("data:"):
            found.append(decode_data_uri(value)[1].decode())
        elif isinstance(value, str) and peer is not None and value.startswith(peer.base):
            name = value.rsplit("/", 1)[-1]
            found.append(next(u.body for u in peer.uploads if u.path.endswith(name)).decode())
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(output)
    return found


def entries(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.mark.parametrize("upload", [False, True], ids=["data-uri", "upload"])
@pytest.mark.parametrize("kind", ["Predictor", "AsyncPredictor"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_every_shape_leaves_the_temp_dir_as_it_was(
    watched_tmp: Path, peer: Peer, shape: str, kind: str, upload: bool
) -> None:
    module = load("temp_returns")
    upload_url = f"{peer.base}/upload/" if upload else None
    async with running(getattr(module, kind), upload_url=upload_url) as runtime:
        before = entries(watched_tmp)
        for _ in range(3):  # the "three predictions leave three directories"
            result = await runtime.predict({"shape": shape})
            assert result["status"] == "succeeded", result["error"]
            assert contents(result["output"], peer if upload else None) == SHAPES[shape]
            assert entries(watched_tmp) == before


async def test_a_training_s_temp_files_go_too(watched_tmp: Path) -> None:
    module = load("temp_returns")
    async with running(module.Predictor, train=module.Predictor) as runtime:
        result = await runtime.predict({"shape": "list"}, training=True)
    assert result["status"] == "succeeded", result["error"]
    assert contents(result["output"], None) == ["a", "b"]
    assert entries(watched_tmp) == []


@pytest.mark.parametrize("upload", [False, True], ids=["data-uri", "upload"])
async def test_a_failure_after_a_stored_file_leaves_nothing(
    watched_tmp: Path, peer: Peer, upload: bool
) -> None:
    module = load("temp_returns")
    upload_url = f"{peer.base}/upload/" if upload else None
    async with running(module.Predictor, upload_url=upload_url) as runtime:
        result = await runtime.predict({"shape": "unencodable"})
    assert result["status"] == "failed"
    assert "not JSON serializable" in result["error"]
    assert entries(watched_tmp) == []


@pytest.mark.parametrize("upload", [False, True], ids=["data-uri", "upload"])
@pytest.mark.parametrize("kind", ["Predictor", "AsyncPredictor"])
@pytest.mark.parametrize("then", ["end", "fail"])
async def test_a_stream_s_files_go_whether_it_ends_or_fails(
    watched_tmp: Path, peer: Peer, kind: str, then: str, upload: bool
) -> None:
    module = load("temp_stream")
    upload_url = f"{peer.base}/upload/" if upload else None
    async with running(getattr(module, kind), upload_url=upload_url) as runtime:
        result = await runtime.predict({"count": 3, "then": then})
    assert result["status"] == ("succeeded" if then == "end" else "failed"), result["error"]
    assert contents(result["output"], peer if upload else None) == [
        "chunk 0",
        "chunk 1",
        "chunk 2",
    ]
    assert entries(watched_tmp) == []


@pytest.mark.parametrize("upload", [False, True], ids=["data-uri", "upload"])
@pytest.mark.parametrize("kind", ["Predictor", "AsyncPredictor"])
async def test_cancel_mid_stream_leaves_nothing(
    watched_tmp: Path, peer: Peer, kind: str, upload: bool
) -> None:
    module = load("temp_stream")
    upload_url = f"{peer.base}/upload/" if upload else None
    async with running(getattr(module, kind), upload_url=upload_url) as runtime:
        prediction = start(runtime, {"count": 3, "then": "block"})
        await asyncio.wait_for(asyncio.to_thread(module.YIELDED.wait, 5), 6)
        assert len(entries(watched_tmp)) >= 3  # the files really were there
        prediction.cancel()
        await asyncio.wait_for(prediction.wait(), 10)
    assert prediction.status == "canceled"
    assert entries(watched_tmp) == []


async def test_an_upload_failure_leaves_nothing(watched_tmp: Path, peer: Peer) -> None:
    peer.fail["1.txt"] = 403  # the second chunk's file is refused
    module = load("temp_stream")
    async with running(module.Predictor, upload_url=f"{peer.base}/upload/") as runtime:
        result = await runtime.predict({"count": 3})
    assert result["status"] == "failed"
    assert "Got error trying to upload output files" in result["error"]
    assert entries(watched_tmp) == []


async def test_a_stream_may_re_yield_one_file(watched_tmp: Path) -> None:
    """Nothing is deleted while the prediction runs: a sync stream's data URIs are made
    as each chunk is yielded, so a file rewritten and yielded again is read each time.
    (Uploads run beside the generator: there a later chunk must not rewrite an earlier
    chunk's file, deleted or not.)"""
    module = load("temp_stream")
    async with running(module.Predictor) as runtime:
        result = await runtime.predict({"count": 3, "same": True})
    assert result["status"] == "succeeded", result["error"]
    assert contents(result["output"], None) == ["step 0", "step 1", "step 2"]
    assert entries(watched_tmp) == []


async def test_files_the_model_keeps_survive_being_returned(watched_tmp: Path) -> None:
    """A static asset of its own folder, and what ``setup()`` made in the temp dir."""
    module = load("keeps_files")
    asset = Path(module.__file__).with_name("static_asset.txt")
    async with running(module.Predictor) as runtime:
        placeholder, workdir = module.MADE["placeholder"], module.MADE["workdir"]
        # A file is "written during a prediction" to the file system clock's tick:
        # begin once the tick setup() wrote in has passed.
        await until_newer_than(placeholder)
        before = entries(watched_tmp)
        for which in ("asset", "placeholder", "workdir", "asset", "placeholder", "workdir"):
            result = await runtime.predict({"which": which})
            assert result["status"] == "succeeded", result["error"]
        assert asset.read_text() == "a static asset shipped with the model\n"
        assert placeholder.read_text() == "placeholder"
        assert workdir.is_dir()  # made by setup(): kept, though empty now
        assert list(workdir.iterdir()) == []  # the output written into it went
        assert entries(watched_tmp) == before


async def test_keep_output_files_turns_it_off(
    watched_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load("temp_returns")
    async with running(module.Predictor, keep_output_files=True) as runtime:
        result = await runtime.predict({"shape": "path"})
    assert result["status"] == "succeeded", result["error"]
    [kept] = watched_tmp.iterdir()
    assert (kept / "one.txt").read_text() == "one"

    monkeypatch.setenv("COGRT_KEEP_OUTPUT_FILES", "1")
    async with running(module.AsyncPredictor) as runtime:
        assert runtime.keep_output_files
        await runtime.predict({"shape": "path"})
    assert len(entries(watched_tmp)) == 2


def start(runtime: Runtime, inputs: dict[str, object]) -> Any:
    return runtime.start(runtime.decode_request(msgspec.json.encode({"input": inputs})))


async def until_newer_than(path: Path) -> None:
    """Wait (bounded) until the file system clock has moved past ``path``'s ctime."""
    from cogrt.transfer.returned import files_clock
    from tests.support.waiting import until

    stamp = path.stat().st_ctime
    await until(lambda: files_clock() > stamp)
