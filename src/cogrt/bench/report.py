"""A run's figures: per level, as a text table and as JSON (the HTML page reads the JSON).

Per level: successful predictions per second, every other outcome counted
apart, latency percentiles of successful predictions (from the intended start),
time to first token and tokens/s for streams, and, for a local server, its CPU
per successful prediction and peak RSS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cogrt.bench.outcomes import OUTCOMES, Tally
from cogrt.bench.plan import Level
from cogrt.bench.procstats import ProcessSample

__all__ = ["PERCENTILES", "LevelResult", "format_table", "run_json"]

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


@dataclass
class LevelResult:
    level: Level
    wall_s: float
    tally: Tally
    process: ProcessSample | None
    client_cpu_s: float = 0.0
    """CPU this process used during the level (the load generator; with ``--in-process``,
    the model and runtime too)."""
    window_s: float | None = None
    """A timed level's sending window (``--duration``); None with ``-n``."""

    def rate(self, outcome: str | None = None) -> float:
        """Answers (of ``outcome``, or all) per second.

        A timed level counts the answers that came within its window, over the
        window, as wrk does: the ones still in flight when sending stopped (a
        paced 409 can come 0.5 s later) are awaited for their latency, not
        spread over a longer time. With ``-n``: all of them over the wall time.
        """
        tally = self.tally
        if self.window_s is not None and tally.in_window is not None:
            counts, seconds = tally.in_window, self.window_s
        else:
            counts, seconds = tally.counts, max(self.wall_s, 1e-9)
        answers = counts[outcome] if outcome is not None else sum(counts.values())
        return answers / seconds

    @property
    def client_cores(self) -> float:
        return self.client_cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def figures(self) -> dict[str, Any]:
        tally, wall = self.tally, max(self.wall_s, 1e-9)
        ok = tally.counts["ok"]
        latency = {f"p{p:g}": tally.latency.percentile(p) / 1000 for p in PERCENTILES} | {
            "max": tally.latency.max / 1000,
            "mean": tally.latency.mean / 1000,
        }
        figures: dict[str, Any] = {
            "level": self.level.label,
            "concurrency": self.level.concurrency,
            "rate": self.level.rate,
            "wall_s": self.wall_s,
            "ok_per_s": self.rate("ok"),
            "responses_per_s": self.rate(),
            "counts": dict(tally.counts),
            "latency_ms": latency,
            "answered_latency_ms": {
                f"p{p:g}": tally.answered.percentile(p) / 1000 for p in PERCENTILES
            }
            | {"max": tally.answered.max / 1000},
            "first_error": tally.first_error,
            "client_cpu_us_per_answer": (
                self.client_cpu_s * 1e6 / tally.total if tally.total else None
            ),
            "client_cores": self.client_cores,
        }
        if tally.tokens or tally.ttft.count:
            figures["ttft_ms"] = {
                f"p{p:g}": tally.ttft.percentile(p) / 1000 for p in PERCENTILES
            } | {"max": tally.ttft.max / 1000}
            figures["tokens"] = tally.tokens
            figures["tokens_per_s"] = tally.tokens / wall
            figures["stream_tokens_per_s_p50"] = tally.stream_rate.percentile(50)
        if self.process is not None:
            figures["server_cpu_ms_per_ok"] = self.process.cpu_s * 1000 / ok if ok else None
            figures["server_cores"] = self.process.cpu_s / wall
            figures["server_peak_rss_mib"] = self.process.peak_rss_mib
            figures["server_peak_is_lifetime"] = self.process.peak_is_lifetime
        return figures


def run_json(meta: dict[str, Any], results: list[LevelResult]) -> dict[str, Any]:
    """The ``--json`` document: the run's settings, then each level's figures and histograms."""
    return {
        "cogrt_bench": 1,
        **meta,
        "levels": [
            {**result.figures(), "histograms": result.tally.to_json()} for result in results
        ],
    }


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def format_table(results: list[LevelResult]) -> str:
    """Fixed-width text: one row per level; outcome columns only for outcomes that happened."""
    others = [o for o in OUTCOMES[1:] if any(r.tally.counts[o] for r in results)]
    streams = any(r.tally.tokens or r.tally.ttft.count for r in results)
    local = any(r.process is not None for r in results)
    head = ["level", "ok/s", "ok", *others, "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"]
    if streams:
        head += ["ttft p50", "ttft p99", "tok/s"]
    if local:
        head += ["cpu ms/ok", "rss MiB"]
    rows = [head]
    for result in results:
        f = result.figures()
        lat = f["latency_ms"]
        row = [f["level"], f"{f['ok_per_s']:.1f}", str(f["counts"]["ok"])]
        row += [str(f["counts"][o]) for o in others]
        row += [_ms(lat[k]) for k in ("p50", "p90", "p99", "p99.9", "max")]
        if streams:
            ttft = f.get("ttft_ms", {})
            row += [_ms(ttft.get("p50", 0)), _ms(ttft.get("p99", 0))]
            row += [f"{f.get('tokens_per_s', 0):.0f}"]
        if local:
            cpu = f.get("server_cpu_ms_per_ok")
            rss = f.get("server_peak_rss_mib")
            row += ["-" if cpu is None else f"{cpu:.2f}", "-" if rss is None else f"{rss:.0f}"]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)
