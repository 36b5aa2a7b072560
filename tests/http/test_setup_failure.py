"""A real server whose model fails: stderr says so, and the logs show the user's frames.

The server's error line goes to its stderr (JSON lines, the default format);
the setup logs on ``/health-check`` and a failed prediction's ``logs`` carry
the traceback trimmed to the model's frames, as Cog shows it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec

import cogrt
from tests.support.predictors import HTTP
from tests.support.server_process import Server, reaped

frame_of = HTTP.frame_of

COGRT_FRAME = re.compile(r'File "' + re.escape(str(Path(cogrt.__file__).parent)))


@contextmanager
def serving(ref: str, wanted: str) -> Iterator[Server]:
    """``python -m cogrt REF`` with its stderr alone in ``Server.log``; waits for ``wanted``."""
    with tempfile.TemporaryDirectory() as tmp:
        stdout, stderr = Path(tmp) / "stdout.log", Path(tmp) / "stderr.log"
        env = {key: value for key, value in os.environ.items() if key != "LOG_FORMAT"}
        command = [sys.executable, "-m", "cogrt", ref, "--host", "127.0.0.1", "--port", "0"]
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(command, cwd=HTTP.path, stdout=out, stderr=err, env=env)
        with reaped(process, stderr, wanted) as server:
            yield server


def json_lines(text: str) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in text.splitlines() if line.startswith("{")]


def test_setup_failure_logs_an_error_line_and_user_frames() -> None:
    raise_line = '    raise ConnectionError(f"cannot reach {url}")'
    with serving("setup_fails_in_helper.py:Predictor", "SETUP_FAILED") as server:
        server.wait_for_output('"level":"error"')
        health = httpx.get(f"{server.url}/health-check", timeout=5).json()
        stderr = server.output()
    [error] = [entry for entry in json_lines(stderr) if entry["level"] == "error"]
    assert error["logger"].startswith("cogrt")
    message = error["message"]
    assert message.startswith(
        "Setup failed: ConnectionError: cannot reach https://weights.invalid/model.bin\n"
        "Traceback (most recent call last):\n"
    )
    assert f"{frame_of('setup_fails_in_helper', raise_line)}, in download_weights" in message
    assert not COGRT_FRAME.search(stderr), stderr
    logs = health["setup"]["logs"]
    assert logs.startswith("fetching weights\nTraceback (most recent call last):\n")
    assert (
        frame_of(
            "setup_fails_in_helper", '        download_weights("https://weights.invalid/model.bin")'
        )
        in logs
    )
    assert frame_of("setup_fails_in_helper", raise_line) in logs
    assert logs.endswith("ConnectionError: cannot reach https://weights.invalid/model.bin\n")
    assert not COGRT_FRAME.search(logs), logs


def test_failed_prediction_logs_show_the_user_frames() -> None:
    with serving("predict_fails_in_helper.py:Predictor", "READY") as server:
        response = httpx.post(
            f"{server.url}/predictions", json={"input": {"text": "a b"}}, timeout=10
        ).json()
    assert (response["status"], response["error"]) == (
        "failed",
        "ValueError: cannot tokenize 'a b'",
    )
    logs = response["logs"]
    assert logs.startswith("Traceback (most recent call last):\n")
    assert frame_of("predict_fails_in_helper", '        return " ".join(tokenize(text))') in logs
    assert (
        frame_of("predict_fails_in_helper", '    raise ValueError(f"cannot tokenize {text!r}")')
        in logs
    )
    assert logs.endswith("ValueError: cannot tokenize 'a b'\n")
    assert not COGRT_FRAME.search(logs), logs
