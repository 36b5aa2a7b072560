"""Access lines (one per response) in both formats and through the logger."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from cogrt.http import access_log


async def _teapot(request: Request) -> PlainTextResponse:
    return PlainTextResponse("short and stout", status_code=418)


def _app() -> access_log.AccessLog:
    return access_log.AccessLog(Starlette(routes=[Route("/pot", _teapot, methods=["POST"])]))


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test configures the process-wide sink; put it back afterwards."""
    for name in ("stream", "json", "enabled"):
        monkeypatch.setattr(access_log._sink, name, getattr(access_log._sink, name))


async def _post(app: access_log.AccessLog, url: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4567))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post(url)


@pytest.mark.usefixtures("sink")
async def test_json_lines_name_client_request_status_and_duration() -> None:
    stream = io.StringIO()
    access_log.configure(stream, json=True, enabled=True)
    response = await _post(_app(), "/pot?size=2")
    assert response.status_code == 418
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "info" and entry["logger"] == "cogrt.access"
    assert entry["time"].endswith("+00:00")
    message = entry["message"]
    assert message.startswith('10.1.2.3:4567 - "POST /pot?size=2 HTTP/1.1" 418 ')
    assert message.endswith("ms")


@pytest.mark.usefixtures("sink")
async def test_console_lines_and_disabled_level() -> None:
    stream = io.StringIO()
    access_log.configure(stream, json=False, enabled=True)
    await _post(_app(), "/pot")
    assert ' INFO    cogrt.access: 10.1.2.3:4567 - "POST /pot HTTP/1.1" 418 ' in stream.getvalue()
    quiet = io.StringIO()
    access_log.configure(quiet, json=False, enabled=False)
    await _post(_app(), "/pot")
    assert quiet.getvalue() == ""


@pytest.mark.usefixtures("sink")
async def test_without_configure_lines_go_through_the_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    access_log._sink.stream = None
    with caplog.at_level(logging.INFO, logger="cogrt.access"):
        await _post(_app(), "/missing")
    (record,) = [r for r in caplog.records if r.name == "cogrt.access"]
    assert '"POST /missing HTTP/1.1" 404' in record.getMessage()
