"""Issue 16 on a real server, each HTTP server: the seed documents' example model, run
three times (the issue's report), leaves ``$TMPDIR`` as it found it."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
import pytest

from tests.support.server_process import running


def test_three_predictions_leave_no_directory_behind(
    http: str, watched_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(watched_tmp))  # the server's temp dir
    with running("temp_output.py:Predictor", http=http) as server, httpx.Client() as client:
        before = sorted(os.listdir(watched_tmp))  # the test's server log lives here too
        for i in range(3):
            response = client.post(
                f"{server.url}/predictions", json={"input": {"text": f"t{i}"}}, timeout=10
            )
            body = response.json()
            assert body["status"] == "succeeded", body["error"]
            assert (
                body["output"]
                == "data:text/plain;base64," + base64.b64encode(f"t{i}".encode()).decode()
            )
            assert sorted(os.listdir(watched_tmp)) == before
