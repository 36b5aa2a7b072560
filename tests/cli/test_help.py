"""``--help``, the command table, and one-line errors for the common mistakes."""

from __future__ import annotations

import argparse
import importlib
import socket
import subprocess
from pathlib import Path

import msgspec
import pytest

from cogrt.cli import COMMANDS, main
from tests.support.cli_process import run_cogrt
from tests.support.predictors import PredictorFolder

MODELS = PredictorFolder(Path(__file__).resolve().parent / "predictors")


def cogrt(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return run_cogrt(cwd, *args, supervise=True, **env)


def test_help_lists_every_command_with_one_line(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "--help")
    assert done.returncode == 0
    text = done.stdout.decode()
    for command in COMMANDS:
        assert f"  {command.name}" in text and command.summary in text
    assert "COG_LOG_LEVEL" in text


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_every_option_has_a_description(command: object) -> None:
    name, _, module_path = command  # type: ignore[misc]
    parser = argparse.ArgumentParser()
    importlib.import_module(module_path).add_arguments(parser)
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


def test_serve_help_names_the_environment_variables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for variable in ("PORT", "COGRT_SUPERVISE=0", "COGRT_EXIT_ON_SETUP_FAILURE=1"):
        assert f"env: {variable}" in text


def test_an_unknown_command_is_a_usage_error(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["predcit"]) == 2
    assert "unknown command 'predcit'" in capfd.readouterr().err


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for supervise in ("0", "1"):
            done = cogrt(
                tmp_path,
                MODELS.ref("text", "Echo"),
                "--host",
                "127.0.0.1",
                "--port" if supervise == "0" else "-p",  # -p as cog serve -p
                str(port),
                COGRT_SUPERVISE=supervise,
            )
            assert done.returncode == 1, done.stderr
            errors = [line for line in done.stderr.splitlines() if b"cogrt: error:" in line]
            assert errors == [
                f"cogrt: error: port {port} on 127.0.0.1 is in use: stop the other"
                " server, or pass --port (or set PORT) to use another one".encode()
            ]


@pytest.mark.parametrize("supervise", ["0", "1"])
def test_exit_on_setup_failure_logs_the_error_and_exits_1(tmp_path: Path, supervise: str) -> None:
    done = cogrt(
        tmp_path,
        MODELS.ref("setup_fails"),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--exit-on-setup-failure",
        COGRT_SUPERVISE=supervise,
    )
    assert done.returncode == 1, done.stderr
    records = [msgspec.json.decode(line) for line in done.stderr.splitlines() if line[:1] == b"{"]
    failed = [r for r in records if r["level"] == "error" and "Setup failed" in r["message"]]
    assert failed and "RuntimeError: weights not found" in failed[0]["message"]
