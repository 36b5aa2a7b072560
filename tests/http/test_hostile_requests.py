"""Request bodies a hostile caller sends (issue 10): answered plainly, never a 500.

A webhook that is not ``http(s)://`` is a 422 at ``["body", "webhook"]``
before any prediction exists; JSON nested too deeply to decode (100 000 ``[``)
is a 400 like any unparsable body, on POST and PUT, on both servers, with no
traceback in the server's log.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.harness import served
from tests.support.predictors import HTTP
from tests.support.server_process import running

load = HTTP.load

DEEP = 100_000
NESTED_BODIES = [
    b'{"input": ' + b"[" * DEEP,
    b'{"input": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    b'{"input": {"text": ' + b"[" * DEEP + b"]" * DEEP + b"}}",
    b'{"id": ' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}",
]
NESTED = {"error": "Failed to parse the request body as JSON: it is nested too deeply"}


@pytest.mark.parametrize("http", ["hypercorn", "uvicorn"])
def test_deeply_nested_json_is_a_400_and_no_traceback(http: str) -> None:
    with running("http_echo.py:Predictor", http=http) as server, httpx.Client(timeout=10) as client:
        for body in NESTED_BODIES:
            for method, path, headers in (
                ("POST", "/predictions", {}),
                ("POST", "/predictions", {"prefer": "respond-async"}),
                ("PUT", "/predictions/deep", {}),
            ):
                response = client.request(
                    method,
                    f"{server.url}{path}",
                    content=body,
                    headers={"content-type": "application/json", **headers},
                )
                assert (response.status_code, response.json()) == (400, NESTED), (method, path)
        after = client.post(f"{server.url}/predictions", json={"input": {"text": "still here"}})
        assert after.json()["output"] == "still here"
        log = server.output()
    assert "Traceback" not in log
    assert " ERROR " not in log and "RecursionError" not in log


@pytest.mark.parametrize(
    "webhook", ["file:///etc/passwd", "ftp://example.com/hook", "not a url", "gopher://h/x"]
)
async def test_a_webhook_that_is_not_http_is_a_422_before_anything_runs(webhook: str) -> None:
    module = load("http_echo")
    async with served(module.Predictor) as (client, app):
        for method, path, headers in (
            ("POST", "/predictions", {}),
            ("POST", "/predictions", {"prefer": "respond-async"}),
            ("PUT", "/predictions/hooked", {}),
        ):
            body = {"input": {"text": "x"}, "webhook": webhook}
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 422, (method, path)
            [entry] = response.json()["detail"]
            assert entry["loc"] == ["body", "webhook"]
            assert entry["type"] == "value_error"
            assert "is not an http:// or https:// URL" in entry["msg"]
        assert app.state.runtime.get("hooked") is None
        assert (await client.get("/health-check")).json()["status"] == "READY"
