"""File inputs from the network side (issue 10): only URLs over HTTP, and ``cog.File``
URLs opened before ``predict()`` runs.

An HTTP caller may not name a server file as a ``Path``/``File`` input: 422
naming the field, before any prediction exists. A ``File`` given as an http(s)
URL is fetched far enough to see its status before user code runs (Cog
0.23.1): a refused connection or a non-2xx answer fails the prediction with
``predict()`` never entered; the body still streams as the predictor reads.
The peer is a real loopback server.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.data_uris import data_uri
from tests.support.file_peer import Peer, refusing
from tests.support.harness import running, served
from tests.support.predictors import TRANSFER

load = TRANSFER.load


async def test_local_paths_over_http_are_refused_before_a_prediction_exists() -> None:
    module = load("records_calls")
    async with served(module.Predictor) as (client, app):
        for headers in ({}, {"prefer": "respond-async"}):
            response = await client.post(
                "/predictions",
                json={"input": {"first": "/etc/passwd", "second": "FILE:///etc/hostname"}},
                headers=headers,
            )
            assert response.status_code == 422
            detail = response.json()["detail"]
            assert [entry["loc"] for entry in detail] == [
                ["body", "input", "first"],
                ["body", "input", "second"],
            ]
            assert {entry["type"] for entry in detail} == {"value_error"}
        response = await client.put(
            "/predictions/p1", json={"input": {"first": "predict.py", "second": "data:,x"}}
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "input", "first"]
        assert (await client.get("/health-check")).json()["status"] == "READY"
        assert app.state.runtime.get("p1") is None
    assert module.CALLS == []


async def test_a_file_input_over_http_must_be_a_url_too() -> None:
    module = load("reads_file")
    async with served(module.Predictor) as (client, _):
        response = await client.post("/predictions", json={"input": {"doc": "../secrets.txt"}})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "input", "doc"]
        ok = await client.post("/predictions", json={"input": {"doc": data_uri(b"inline")}})
        assert ok.json()["output"] == "inline"
    assert module.ENTERED == ["BytesIO"]


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        (
            "{base}/files/missing.txt?sig=secret",
            "GET {base}/files/missing.txt returned 404 Not Found",
        ),
        ("{refused}/files/a.txt", "failed to download {refused}/files/a.txt"),
    ],
)
async def test_an_unreachable_file_url_fails_before_predict(
    peer: Peer, where: str, reason: str
) -> None:
    module = load("reads_file")
    async with refusing() as refused, running(module.Predictor) as runtime:
        result = await runtime.predict({"doc": where.format(base=peer.base, refused=refused)})
    assert result["status"] == "failed"
    assert result["error"].startswith("InputDownloadError: Input validation error: ")
    assert reason.format(base=peer.base, refused=refused) in result["error"]
    assert result["error"].endswith("for input 'doc'")
    assert "secret" not in result["error"]
    assert result["started_at"] is None
    assert module.ENTERED == []  # predict() was never entered


async def test_one_bad_url_in_a_list_of_files_fails_before_predict(peer: Peer) -> None:
    module = load("reads_files")
    peer.files["a.txt"] = b"a"
    async with running(module.Predictor) as runtime:
        urls = [f"{peer.base}/files/a.txt", f"{peer.base}/files/gone.txt"]
        failed = await runtime.predict({"docs": urls})
        urls[1] = data_uri(b"b")
        succeeded = await runtime.predict({"docs": urls})
    assert failed["status"] == "failed"
    assert "gone.txt returned 404 Not Found for input 'docs'" in failed["error"]
    assert succeeded["status"] == "succeeded", succeeded["error"]
    assert succeeded["output"] == "a+b"
    assert module.ENTERED == [2]


async def test_file_inputs_send_the_user_agent(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COG_USER_AGENT", "cogrt-test/2 (+file)")
    module = load("reads_file")
    peer.files["a.txt"] = b"hello"
    async with running(module.Predictor) as runtime:
        result = await runtime.predict({"doc": f"{peer.base}/files/a.txt"})
    assert result["status"] == "succeeded", result["error"]
    assert result["output"] == "hello"
    assert peer.user_agents == ["cogrt-test/2 (+file)"]


async def test_the_body_still_streams_as_it_is_read(peer: Peer) -> None:
    """``/trickle/`` never ends its body: a predictor reading 10 bytes must still finish."""
    module = load("reads_file")
    async with running(module.Predictor) as runtime:
        result = await asyncio.wait_for(
            runtime.predict({"doc": f"{peer.base}/trickle/endless.txt", "size": 10}), 20
        )
    assert result["status"] == "succeeded", result["error"]
    assert result["output"] == "t" * 10


async def test_url_schemes_are_case_insensitive_downstream_too(peer: Peer) -> None:
    """``HTTP://`` passes validation as a URL, so it must be fetched as one, never opened
    as a local path; ``DATA:`` likewise (RFC 3986: schemes are case-insensitive)."""
    module = load("records_calls")
    peer.files["a.txt"] = b"upper "
    async with running(module.Predictor) as runtime:
        url = peer.base.replace("http://", "HTTP://") + "/files/a.txt"
        result = await runtime.predict({"first": url, "second": "DATA:text/plain,case"})
    assert result["status"] == "succeeded", result["error"]
    assert result["output"] == "upper case"
    [(first, second)] = module.CALLS
    assert first.name.endswith("a.txt") and second.name.endswith("file.txt")
