"""``python -m cogrt`` in process: reference precedence (§2.2), cog.yaml environment, commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from cogrt import __version__
from cogrt.cli import main, resolve_project
from tests.support.predictors import HTTP, SCHEMA


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("COG_PREDICT_TYPE_STUB", "COG_TRAIN_TYPE_STUB", "FROM_YAML", "KEPT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_reference_precedence_cli_then_env_then_yaml(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "cog.yaml").write_text('run: "yaml.py:Y"\ntrain: "t.py:T"\nconcurrency:\n  max: 4\n')
    assert resolve_project(None).predictor == "yaml.py:Y"
    monkeypatch.setenv("COG_PREDICT_TYPE_STUB", "env.py:E")
    assert resolve_project(None).predictor == "env.py:E"
    resolved = resolve_project("cli.py:C")
    assert (resolved.predictor, resolved.train, resolved.concurrency) == ("cli.py:C", "t.py:T", 4)
    trainer = resolve_project(None, "train")
    assert (trainer.predictor, trainer.mode, trainer.train) == ("t.py:T", "train", None)


def test_yaml_environment_never_overrides_the_process(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "cog.yaml").write_text(
        'run: "p.py:P"\nenvironment:\n  - FROM_YAML=1\n  - KEPT=yaml\n'
    )
    monkeypatch.setenv("KEPT", "process")
    resolve_project(None)
    assert (os.environ["FROM_YAML"], os.environ["KEPT"]) == ("1", "process")


@pytest.mark.parametrize(
    ("argv", "setting"),
    [([], "COG_PREDICT_TYPE_STUB"), (["--x-mode", "train"], "COG_TRAIN_TYPE_STUB")],
)
def test_missing_reference_names_the_setting_and_exits_1(
    project: Path, capfd: pytest.CaptureFixture[str], argv: list[str], setting: str
) -> None:
    assert main(argv) == 1
    assert setting in capfd.readouterr().err


def test_run_and_predict_together_is_an_error(
    project: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (project / "cog.yaml").write_text('run: "a.py:A"\npredict: "b.py:B"\n')
    assert main([]) == 1
    assert "only one of run or predict can be set" in capfd.readouterr().err


def test_version_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cogrt {__version__}"
    assert main(["--http", "gunicorn"]) == 2


def test_schema_prints_the_document(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(HTTP.path)
    assert main(["schema", "http_echo.py:Predictor"]) == 0
    document = msgspec.json.decode(capfd.readouterr().out)
    assert document["components"]["schemas"]["Input"]["properties"]["text"]["type"] == "string"


def test_predict_runs_one_prediction(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(HTTP.path)
    assert main(["predict", "http_echo.py:Predictor", "-i", "text=42"]) == 0
    assert capfd.readouterr().out == "42\n"  # a string input stays a string; printed raw


def test_predict_reads_a_local_file_given_with_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The one-shot CLI runs for the machine's own user: ``-i image=@file`` names a local
    file (HTTP callers must send a URL), relative to the working directory or absolute."""
    (tmp_path / "photo.png").write_bytes(b"not really a png")
    monkeypatch.chdir(tmp_path)
    ref = SCHEMA.ref("path_input_accept")
    for given in ("@photo.png", f"@{tmp_path / 'photo.png'}"):
        assert main(["predict", ref, "-i", f"image={given}", "--json"]) == 0
        prediction = msgspec.json.decode(capfd.readouterr().out)
        assert prediction["status"] == "succeeded", prediction["error"]
        assert prediction["output"] == "output.png"
        assert (tmp_path / "output.png").read_bytes() == b"not really a png"
        (tmp_path / "output.png").unlink()


def test_cog_server_http_module_runs_the_cli() -> None:
    env = {**os.environ, "COG_PREDICT_TYPE_STUB": "http_echo.py:Predictor"}
    done = subprocess.run(
        [sys.executable, "-m", "cog.server.http", "--version"],
        cwd=HTTP.path,
        env=env,
        capture_output=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"cogrt {__version__}".encode())
