"""Per-process-tree CPU time and memory read straight from /proc.

Why a process tree: Cog's server is a Rust HTTP front end living in one Python
process that spawns a separate Python worker for the predictor, while cogrt
and the ceilings are a single process.  Comparing only the top process would
hide Cog's worker, so every figure here sums the root and all descendants.
Linux only (the benchmark machine is Linux).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class StatLine:
    """The fields of /proc/PID/stat this module needs."""

    pid: int
    ppid: int
    utime_ticks: int
    stime_ticks: int
    start_ticks: int


def _read_stat(pid: int) -> StatLine | None:
    """Parse /proc/PID/stat; None when the process vanished meanwhile."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = raw[raw.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15, starttime 22.
    return StatLine(
        pid=pid,
        ppid=int(rest[1]),
        utime_ticks=int(rest[11]),
        stime_ticks=int(rest[12]),
        start_ticks=int(rest[19]),
    )


def _all_stats() -> list[StatLine]:
    stats: list[StatLine] = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            line = _read_stat(int(entry.name))
            if line is not None:
                stats.append(line)
    return stats


def process_tree(root_pid: int) -> list[int]:
    """The root pid followed by all its live descendants."""
    children: dict[int, list[int]] = {}
    for line in _all_stats():
        children.setdefault(line.ppid, []).append(line.pid)
    tree: list[int] = []
    stack = [root_pid]
    seen: set[int] = set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return tree


def start_time(pid: int) -> int | None:
    """Boot-relative start time in ticks: with the pid it identifies a process uniquely."""
    line = _read_stat(pid)
    return None if line is None else line.start_ticks


def tree_cpu_seconds(root_pid: int) -> float:
    """User plus system CPU seconds consumed so far by the whole live tree."""
    ticks = 0
    for pid in process_tree(root_pid):
        line = _read_stat(pid)
        if line is not None:
            ticks += line.utime_ticks + line.stime_ticks
    return ticks / CLOCK_TICKS


def tree_cpu_ms(root_pid: int) -> float:
    """CPU milliseconds used so far by every live thread of the tree.

    Read from ``/proc/PID/task/TID/schedstat`` (nanoseconds), where
    ``tree_cpu_seconds``' ticks are 10 ms.
    """
    total = 0
    for pid in process_tree(root_pid):
        try:
            tasks = list((PROC / str(pid) / "task").iterdir())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        for task in tasks:
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
                continue
    return total / 1e6


def _pss_kib(pid: int) -> int:
    try:
        text = (PROC / str(pid) / "smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    for row in text.splitlines():
        if row.startswith("Pss:"):
            return int(row.split()[1])
    return 0


def pss_mib(pid: int) -> float:
    """Proportional set size of one process in MiB (0 once it is gone)."""
    return _pss_kib(pid) / 1024


def tree_pss_mib(root_pid: int) -> float:
    """Proportional set size of the whole tree in MiB (shared pages split fairly)."""
    return sum(_pss_kib(pid) for pid in process_tree(root_pid)) / 1024
