"""``python -m cogrt bench`` end to end on tiny models, with short loads; no timing asserts.

Each run is bounded (``-n``), so a test's length does not depend on the machine.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cogrt.bench.command import collector_paused, main
from tests.support.server_process import running

HERE = Path(__file__).resolve().parent / "predictors"


def bench(
    *args: str, cwd: Path = HERE, tmp: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command line in the model folder, bounded; ``tmp`` as its TMPDIR."""
    env = {**os.environ, "LOG_FORMAT": "console"}
    if tmp is not None:
        tmp.mkdir(exist_ok=True)
        env["TMPDIR"] = str(tmp)
    return subprocess.run(
        [sys.executable, "-m", "cogrt", "bench", "-q", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def report(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    assert document["cogrt_bench"] == 1
    return document


def test_sweep_on_a_spawned_server_writes_table_json_and_html(tmp_path: Path) -> None:
    out, page = tmp_path / "run.json", tmp_path / "run.html"
    scratch = tmp_path / "tmp"
    done = bench(
        "-i",
        "text=yo",
        "-c",
        "1,2",
        "-n",
        "12",
        "--json",
        str(out),
        "--html",
        str(page),
        tmp=scratch,
    )
    assert done.returncode == 0, done.stderr
    assert list(scratch.iterdir()) == []  # the server's log is removed with the server
    header = done.stdout.splitlines()[0].split()
    assert header[:3] == ["level", "ok/s", "ok"] and "p99.9" in header and "cpu" in header
    document = report(out)
    assert document["target"].startswith("python -m cogrt --http hypercorn")
    assert document["stats_of"] == "the server process"
    assert [level["level"] for level in document["levels"]] == ["c=1", "c=2"]
    for level in document["levels"]:
        counts = level["counts"]
        assert sum(counts.values()) == 12  # -n: exactly this many predictions per level
        assert counts["ok"] >= 1
        assert counts["ok"] + counts["409"] == 12  # one slot: the rest are refusals
        assert level["histograms"]["latency_us"]["count"] == counts["ok"]
        assert level["server_peak_rss_mib"] > 0
        assert level["client_cpu_us_per_answer"] > 0 and level["client_cores"] > 0
    assert document["levels"][0]["counts"]["ok"] == 12  # one connection never meets a 409
    html = page.read_text()
    assert html.startswith("<!doctype html>") and html.count("<svg") == 2
    for remote in ("<script", "src=", "href=", "@import", "url("):
        assert remote not in html  # self-contained: opens offline


def test_open_loop_poisson_rate(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    done = bench("--rate", "50", "--poisson", "--seed", "4", "-n", "10", "--json", str(out))
    assert done.returncode == 0, done.stderr
    (level,) = report(out)["levels"]
    assert level["level"] == "50/s" and level["rate"] == 50
    assert sum(level["counts"].values()) == 10


def test_stream_mode_counts_tokens_and_time_to_first_token(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    done = bench("tokens.py:Predictor", "--stream", "-i", "count=7", "-n", "4", "--json", str(out))
    assert done.returncode == 0, done.stderr
    (level,) = report(out)["levels"]
    assert level["counts"]["ok"] == 4
    assert level["tokens"] == 28
    assert level["histograms"]["ttft_us"]["count"] == 4
    assert "ttft" in done.stdout


def test_async_mode_waits_for_the_completed_webhooks(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    done = bench("--async", "--http", "uvicorn", "-c", "1", "-n", "5", "--json", str(out))
    assert done.returncode == 0, done.stderr
    (level,) = report(out)["levels"]
    assert level["counts"]["ok"] == 5
    assert report(out)["mode"] == "async"


def test_url_target_speaks_to_any_cog_api(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    with running("http_echo.py:Predictor", http="uvicorn") as server:
        done = bench("--url", server.url, "-i", "text=x", "-n", "6", "--json", str(out))
    assert done.returncode == 0, done.stderr
    document = report(out)
    assert document["target"] == server.url and "stats_of" not in document
    assert document["levels"][0]["counts"]["ok"] == 6


def test_in_process_runtime(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(HERE)
    out = tmp_path / "run.json"
    assert (
        main(
            ["tokens.py:Predictor", "--in-process", "--stream", "-n", "3", "-q", "--json", str(out)]
        )
        == 0
    )
    document = report(out)
    assert document["target"] == "in-process Runtime"
    assert document["stats_of"] == "the bench process"
    assert document["levels"][0]["tokens"] == 9
    assert "level" in capsys.readouterr().out


def test_inputs_from_jsonl_are_cycled(tmp_path: Path) -> None:
    lines = tmp_path / "inputs.jsonl"
    lines.write_text('{"text": "a"}\n\n{"input": {"text": "b", "n": 2}}\n')
    out = tmp_path / "run.json"
    done = bench("--inputs", str(lines), "-n", "4", "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert report(out)["inputs"] == 2


# -- bad input is a clear error before any load ----------------------------------


def refused(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1
    assert done.stdout == ""  # no table: no load was sent
    assert done.stderr.startswith("cogrt bench: error: ") or "cogrt bench: error: " in done.stderr
    return done.stderr


def test_unknown_input_name() -> None:
    message = refused(bench("-i", "txet=hi", "-n", "5"))
    assert "no input named 'txet'" in message and "its inputs: n, text" in message


def test_value_the_schema_rejects_stops_with_the_422_message() -> None:
    message = refused(bench("-i", "n=-2", "-n", "5"))
    assert "the model rejected the input: n: -2 is less than the minimum of 0" in message


def test_value_the_schema_rejects_in_process(monkeypatch, capsys) -> None:
    monkeypatch.chdir(HERE)
    assert main(["--in-process", "-i", "n=-2", "-n", "5", "-q"]) == 1
    captured = capsys.readouterr()
    assert "rejected the input" in captured.err and "-2 is less than" in captured.err
    assert captured.out == ""


def test_unreachable_url() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        message = refused(bench("--url", f"http://127.0.0.1:{port}", "-n", "5"))
    assert f"http://127.0.0.1:{port} is unreachable" in message


@pytest.mark.parametrize("url", ["https://example.com", "ftp://x", "http://h:1/predictions"])
def test_url_must_be_a_plain_http_root(url: str) -> None:
    assert "--url" in refused(bench("--url", url, "-n", "5"))


@pytest.mark.parametrize("where", [[], ["--in-process"]])
def test_model_that_fails_setup(where: list[str], tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    message = refused(bench("setup_fails.py:Predictor", *where, "-n", "5", tmp=scratch))
    assert "the model's setup failed" in message and "no weights for the bench" in message
    assert list(scratch.iterdir()) == []


def test_model_whose_first_prediction_fails() -> None:
    message = refused(bench("fails.py:Predictor", "-n", "5"))
    assert "this model always fails" in message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-c", "0"], "-c '0'"),
        (["--rate", "5", "-c", "2"], "exclude each other"),
        (["--duration", "soon"], "--duration 'soon'"),
        (["--inputs", "/nonexistent/x.jsonl"], "cannot read the file"),
        (["--in-process", "--async"], "--async needs HTTP"),
    ],
)
def test_bad_options(args: list[str], message: str, monkeypatch, capsys) -> None:
    monkeypatch.chdir(HERE)
    assert main([*args, "-q"]) == 1
    assert message in capsys.readouterr().err


def test_the_collector_is_paused_during_a_level_over_http_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused(True):
        assert not gc.isenabled()
    assert gc.isenabled()
    with collector_paused(False):  # in-process: the runtime's heap, left alone
        assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused(True):
        raise RuntimeError("a level that fails still restores the collector")
    assert gc.isenabled()
