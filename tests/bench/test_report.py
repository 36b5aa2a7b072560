"""The table, the JSON document and the HTML page built from a run's tallies."""

from __future__ import annotations

import json
import re

from cogrt.bench.html_report import render_html
from cogrt.bench.outcomes import Tally
from cogrt.bench.plan import Level
from cogrt.bench.procstats import ProcessSample, ProcessWatch
from cogrt.bench.report import LevelResult, format_table, run_json


def result(
    label: int, ok: int, refused: int = 0, process: ProcessSample | None = None
) -> LevelResult:
    tally = Tally()
    for i in range(ok):
        tally.add("ok", 1000 + i * 10)
    for _ in range(refused):
        tally.add("409", 200, "HTTP 409")
    return LevelResult(Level(concurrency=label), 2.0, tally, process)


def test_table_shows_only_outcomes_that_happened() -> None:
    quiet = format_table([result(1, 10)])
    assert "409" not in quiet and "cpu" not in quiet
    busy = format_table(
        [result(1, 10), result(8, 4, refused=30, process=ProcessSample(0.5, 40, False))]
    )
    header, first, second = busy.splitlines()
    assert header.split()[:4] == ["level", "ok/s", "ok", "409"]
    assert second.split()[:4] == ["c=8", "2.0", "4", "30"]
    assert second.split()[-2:] == ["125.00", "40"]  # 0.5 s of CPU over 4 successes; MiB
    assert first.split()[-2:] == ["-", "-"]


def test_json_document_carries_figures_and_lossless_histograms() -> None:
    document = run_json({"target": "t", "mode": "sync"}, [result(1, 100)])
    text = json.dumps(document)  # plain JSON types only
    (level,) = json.loads(text)["levels"]
    assert level["ok_per_s"] == 50.0
    assert level["latency_ms"]["p50"] == 1.491  # 1490 us is in the bucket 1488-1491
    assert level["latency_ms"]["max"] == 1.99
    assert level["histograms"]["latency_us"]["count"] == 100
    assert "ttft_ms" not in level  # no streams, no stream figures


def test_html_is_self_contained_and_escapes_what_it_shows() -> None:
    document = run_json({"target": "<script>alert(1)</script>", "mode": "sse"}, [result(1, 5)])
    document["levels"][0]["ttft_ms"] = {"p50": 1.0, "p99": 2.0}
    page = render_html(document)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("<svg") == 3  # throughput, latency, time to first token
    assert not re.search(r"(src|href)=", page)
    assert "Throughput against concurrency" in page


def test_open_loop_pages_plot_against_rate() -> None:
    tally = Tally()
    tally.add("ok", 10)
    page = render_html(run_json({}, [LevelResult(Level(rate=25.0), 1.0, tally, None)]))
    assert "against arrival rate" in page and ">25/s<" in page


def test_process_watch_reads_this_process() -> None:
    watch = ProcessWatch(__import__("os").getpid())
    assert watch.available
    watch.begin()
    sum(i * i for i in range(200_000))  # some CPU between begin and end
    sample = watch.end()
    assert sample.cpu_s >= 0 and sample.peak_rss_mib > 0


def test_a_timed_level_counts_its_rates_over_its_window() -> None:
    """Answers after the window (awaited for their latency) do not stretch the time."""
    tally = Tally()
    for _ in range(40):
        tally.add("ok", 500)
    tally.add("409", 500_000, "HTTP 409")
    tally.close_window()  # the deadline: 40 ok and one 409 so far
    for _ in range(9):
        tally.add("409", 500_000, "HTTP 409")  # held back, answered 0.5 s after it
    timed = LevelResult(Level(concurrency=64), 2.5, tally, None, window_s=2.0).figures()
    assert timed["ok_per_s"] == 20.0 and timed["responses_per_s"] == 20.5
    assert timed["counts"]["409"] == 10  # every answer is still counted and measured
    counted = LevelResult(Level(concurrency=64), 2.5, tally, None).figures()  # -n: wall time
    assert counted["ok_per_s"] == 16.0 and counted["responses_per_s"] == 20.0
