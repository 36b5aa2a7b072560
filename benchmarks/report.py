"""Aggregate samples into medians, ratios and a markdown table.

Why medians: on a shared 2-core machine single rounds are noisy; the median
across rounds resists one disturbed run.  Ratios put every figure next to
Cog (what users have today) and next to the ceiling on the same HTTP server
(the most cogrt could hope for), which is how the numbers are judged.
"""

from __future__ import annotations

import statistics
from typing import Any

from servers import CEILING_OF

# Metric name -> (unit, whether higher is better); order is the table's row order.
METRICS: dict[str, tuple[str, bool]] = {
    "rps_ok": ("req/s 2xx", True),
    "rps_total": ("req/s all", True),
    "latency_p50_ms": ("ms", False),
    "latency_p99_ms": ("ms", False),
    "status_409_pct": ("% of responses", False),
    "errors": ("count", False),
    "cpu_us_per_request": ("us CPU/resp", False),
    "server_cores": ("cores busy", False),
    "sse_ttft_ms": ("ms", False),
    "sse_tokens_per_s": ("tokens/s", True),
    "sse_total_ms": ("ms", False),
    "cancel_to_webhook_ms": ("ms", False),
    "cancel_http_ms": ("ms", False),
    "health_idle_p50_ms": ("ms", False),
    "health_busy_p50_ms": ("ms", False),
    "health_busy_p99_ms": ("ms", False),
    "health_busy_max_ms": ("ms", False),
    "webhook_posts": ("count", False),
    "webhook_completed_ms": ("ms", False),
    "start_to_ready_ms": ("ms", False),
    "idle_pss_mib": ("MiB", False),
}


def medians(samples: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """workload -> server -> metric -> median over successful rounds."""
    grouped: dict[str, dict[str, dict[str, list[float]]]] = {}
    for sample in samples:
        if sample["status"] != "ok":
            continue
        per_metric = grouped.setdefault(sample["workload"], {}).setdefault(sample["server"], {})
        for metric, value in sample["metrics"].items():
            if metric in METRICS and isinstance(value, (int, float)):
                per_metric.setdefault(metric, []).append(float(value))
    return {
        workload: {
            server: {metric: statistics.median(values) for metric, values in metrics.items()}
            for server, metrics in servers.items()
        }
        for workload, servers in grouped.items()
    }


def _ratio(value: float, reference: float | None) -> float | None:
    if reference is None or reference == 0:
        return None
    return value / reference


def ratios(
    summary: dict[str, dict[str, dict[str, float]]],
) -> dict[str, dict[str, dict[str, dict[str, float | None]]]]:
    """workload -> server -> metric -> {"vs_cog": r, "vs_ceiling": r} (value / reference)."""
    out: dict[str, dict[str, dict[str, dict[str, float | None]]]] = {}
    for workload, servers in summary.items():
        cog = servers.get("cog", {})
        for server, metrics in servers.items():
            ceiling = servers.get(CEILING_OF.get(server, ""), {})
            out.setdefault(workload, {})[server] = {
                metric: {
                    "vs_cog": _ratio(value, cog.get(metric)),
                    "vs_ceiling": _ratio(value, ceiling.get(metric)),
                }
                for metric, value in metrics.items()
            }
    return out


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown(
    summary: dict[str, dict[str, dict[str, float]]],
    ratio_table: dict[str, dict[str, dict[str, dict[str, float | None]]]],
    servers: list[str],
    skipped: dict[str, str],
) -> str:
    """One table per workload; cells read ``value (x cog, x ceiling)`` ratios."""
    lines: list[str] = []
    for workload, per_server in summary.items():
        present = [s for s in servers if s in per_server]
        lines += [f"### {workload}", ""]
        lines.append("| metric | " + " | ".join(present) + " |")
        lines.append("|---|" + "---|" * len(present))
        for metric, (unit, higher_better) in METRICS.items():
            if not any(metric in per_server[s] for s in present):
                continue
            arrow = "↑" if higher_better else "↓"
            cells = []
            for server in present:
                value = per_server[server].get(metric)
                if value is None:
                    cells.append("-")
                    continue
                rel = ratio_table[workload][server][metric]
                notes = []
                if server != "cog" and rel["vs_cog"] is not None:
                    notes.append(f"{rel['vs_cog']:.2f}x cog")
                if CEILING_OF.get(server, server) != server and rel["vs_ceiling"] is not None:
                    notes.append(f"{rel['vs_ceiling']:.2f}x ceil")
                cells.append(_fmt(value) + (f" ({', '.join(notes)})" if notes else ""))
            lines.append(f"| {metric} [{unit}] {arrow} | " + " | ".join(cells) + " |")
        lines.append("")
    for server, reason in skipped.items():
        lines.append(f"- `{server}` skipped: {reason}")
    return "\n".join(lines).rstrip() + "\n"
