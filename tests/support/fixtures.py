"""Fixtures for the whole suite (``pytest_plugins`` in ``tests/conftest.py``).

A loopback file peer, an output folder, a watched temp dir, and the HTTP
server a real-server test runs under (each such test runs on both).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .file_peer import Peer, serving


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with serving() as running_peer:
        yield running_peer


@pytest.fixture
def out_dir(tmp_path: Path, watched_tmp: Path) -> Path:
    """Where predictors write outputs: apart from the temp dir cogrt must leave empty.

    Outside it, too, so cogrt keeps the files there (it deletes returned temp
    files) and a test can look at them afterwards.
    """
    path = tmp_path / "out"
    path.mkdir()
    return path


@pytest.fixture
def watched_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temp dir, for this test: every per-prediction dir is made here."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


@pytest.fixture(params=["hypercorn", "uvicorn"])
def http(request: pytest.FixtureRequest) -> str:
    """``--http`` for a real server: a test taking this fixture runs on both."""
    return str(request.param)
