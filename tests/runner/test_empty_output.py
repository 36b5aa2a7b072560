"""An iterator output with no items is ``[]``, as in Cog, not ``null``."""

from __future__ import annotations

import pytest

from tests.support.harness import running
from tests.support.predictors import RUNNER

load = RUNNER.load

STREAMING = [
    "SyncGenerator",
    "SyncIterator",
    "SyncConcatenate",
    "AsyncGenerator",
    "AsyncConcatenate",
    "AsyncReturnsGenerator",
]


@pytest.mark.parametrize("name", STREAMING)
async def test_an_iterator_that_yields_nothing_is_an_empty_list(name: str) -> None:
    async with running(getattr(load("empty_outputs"), name)) as runtime:
        response = await runtime.predict()
    assert response["status"] == "succeeded"
    assert response["output"] == []


@pytest.mark.parametrize("upload", [False, True])
async def test_an_empty_stream_with_an_upload_url_is_an_empty_list(upload: bool) -> None:
    """Sync streams take another path when file outputs are uploaded."""
    upload_url = "http://127.0.0.1:9/upload/" if upload else None
    async with running(load("empty_outputs").SyncGenerator, upload_url=upload_url) as runtime:
        assert (await runtime.predict())["output"] == []


async def test_an_empty_returned_list_stays_an_empty_list() -> None:
    async with running(load("empty_outputs").EmptyList) as runtime:
        assert (await runtime.predict())["output"] == []


async def test_a_stream_that_fails_before_any_item_has_no_output() -> None:
    """Only a succeeded stream is a list; a failed one with no items is ``null``, as in Cog."""
    async with running(load("empty_outputs").FailsBeforeYielding) as runtime:
        response = await runtime.predict()
    assert response["status"] == "failed"
    assert response["output"] is None
