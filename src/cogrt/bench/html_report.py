"""``--html``: one self-contained page (inline SVG and CSS, no script, no CDN: it opens
offline) with throughput and latency against concurrency or rate, where the knee of
the curve shows: throughput stops growing while latency climbs.

Built from the ``--json`` document, so a saved JSON can be redrawn.
"""

from __future__ import annotations

import html
import math
from typing import Any

__all__ = ["render_html"]

_W, _H = 560, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 28, 44
_COLORS = ("#1f6feb", "#d29922", "#cf222e", "#8250df")


def _nice_max(value: float) -> float:
    """The smallest 1/2/5 x 10^k at least ``value`` (a round top for the y axis)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def _chart(title: str, unit: str, labels: list[str], series: dict[str, list[float]]) -> str:
    top = _nice_max(max((v for values in series.values() for v in values), default=0.0))
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    n = len(labels)

    def x(i: int) -> float:
        return _LEFT + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return _TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}"'
        f' viewBox="0 0 {_W} {_H}" role="img" aria-label="{html.escape(title)}"'
        ' font-family="system-ui, sans-serif" font-size="11">',
        f'<text x="{_LEFT}" y="16" font-weight="600">{html.escape(title)}</text>',
    ]
    for k in range(5):  # horizontal grid and y ticks
        value = top * k / 4
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}"'
            ' stroke="#d8dee4"/>'
            f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{x(i):.1f}" y="{_H - _BOTTOM + 16}" text-anchor="middle">'
            f"{html.escape(label)}</text>"
        )
    middle = _TOP + plot_h / 2
    parts.append(
        f'<text x="14" y="{middle}" text-anchor="middle" transform="rotate(-90 14 {middle})">'
        f"{html.escape(unit)}</text>"
    )
    for (name, values), color in zip(series.items(), _COLORS[: len(series)], strict=True):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        for i, v in enumerate(values):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{color}">'
                f"<title>{html.escape(name)} at {html.escape(labels[i])}: {v:.3g}</title></circle>"
            )
    legend_x = _LEFT
    for name, color in zip(series, _COLORS[: len(series)], strict=True):
        parts.append(
            f'<rect x="{legend_x}" y="{_H - 16}" width="10" height="10" fill="{color}"/>'
            f'<text x="{legend_x + 14}" y="{_H - 7}">{html.escape(name)}</text>'
        )
        legend_x += 14 + 8 * len(name) + 16
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """
body{font:14px system-ui,sans-serif;margin:24px;color:#1f2328}
h1{font-size:20px} .charts{display:flex;flex-wrap:wrap;gap:16px}
svg{border:1px solid #d0d7de;border-radius:6px;background:#fff}
table{border-collapse:collapse;margin-top:16px}
td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:right} th{background:#f6f8fa}
"""


def _table(levels: list[dict[str, Any]]) -> str:
    head = ["level", "ok/s", "ok", "other outcomes", "p50 ms", "p99 ms", "p99.9 ms", "max ms"]
    rows = ["<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for level in levels:
        counts = level["counts"]
        other = ", ".join(f"{k}: {v}" for k, v in counts.items() if k != "ok" and v) or "none"
        lat = level["latency_ms"]
        cells = [level["level"], f"{level['ok_per_s']:.1f}", str(counts["ok"]), other]
        cells += [f"{lat[k]:.2f}" for k in ("p50", "p99", "p99.9", "max")]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def render_html(document: dict[str, Any]) -> str:
    levels: list[dict[str, Any]] = document["levels"]
    labels = [str(level["level"]) for level in levels]
    axis = "arrival rate" if levels and levels[0].get("rate") is not None else "concurrency"
    charts = [
        _chart(
            f"Throughput against {axis}",
            "predictions/s",
            labels,
            {"ok/s": [level["ok_per_s"] for level in levels]},
        ),
        _chart(
            f"Latency against {axis}",
            "ms",
            labels,
            {f"p{p}": [level["latency_ms"][f"p{p}"] for level in levels] for p in (50, 90, 99)},
        ),
    ]
    if any("ttft_ms" in level for level in levels):
        charts.append(
            _chart(
                f"Time to first token against {axis}",
                "ms",
                labels,
                {
                    f"p{p}": [level.get("ttft_ms", {}).get(f"p{p}", 0.0) for level in levels]
                    for p in (50, 99)
                },
            )
        )
    target = html.escape(str(document.get("target", "")))
    mode = html.escape(str(document.get("mode", "")))
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>cogrt bench: {target}</title><style>{_STYLE}</style></head><body>"
        f"<h1>cogrt bench: {target}</h1><p>mode: {mode}; latency of successful predictions,"
        " measured from each request's intended start.</p>"
        f'<div class="charts">{"".join(charts)}</div>{_table(levels)}</body></html>\n'
    )
