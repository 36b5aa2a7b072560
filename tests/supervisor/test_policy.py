"""The supervisor's words for an exit, its restart delays and its log lines."""

from __future__ import annotations

import json
import signal
import sys
from datetime import datetime

import pytest

from cogrt.supervisor.policy import Log, describe_exit, restart_delay


def test_the_supervisors_json_log_lines_parse(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "__stderr__", sys.stderr)
    message = 'quote " backslash \\ control \x00\x1f\n snowman \u2603'
    Log({})(40, message)
    entry = json.loads(capsys.readouterr().err)
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "error",
        "cogrt.supervisor",
        message,
    )
    assert datetime.fromisoformat(entry["time"]).tzinfo is not None


def test_exit_causes_and_restart_delays() -> None:
    assert describe_exit(1 << 8) == ("exit 1", 1)
    assert describe_exit(signal.SIGSEGV) == ("killed by SIGSEGV", 139)
    assert [restart_delay(n) for n in range(10)] == [0, 0.5, 1, 2, 4, 8, 16, 30, 30, 30]
