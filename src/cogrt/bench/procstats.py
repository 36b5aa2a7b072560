"""CPU time and peak memory of the local server process, read from ``/proc`` (Linux).

CPU is summed over the process's threads from ``/proc/PID/task/TID/schedstat``
(nanoseconds; ``/proc/PID/stat``'s ticks are 10 ms, too coarse for one level).
Peak RSS is the kernel's ``VmHWM``, reset at the start of each level by writing
``5`` to ``/proc/PID/clear_refs`` (Linux 4.0+), so each level reports its own
peak; where the reset is refused, the peak is the process's lifetime peak and
``peak_is_lifetime`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessSample", "ProcessWatch"]

_PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessSample:
    cpu_s: float
    peak_rss_mib: float
    peak_is_lifetime: bool


class ProcessWatch:
    """Measures one process between ``begin()`` and ``end()``; inert where /proc is absent."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._cpu_at_begin = 0.0
        self._reset = False

    @property
    def available(self) -> bool:
        return (_PROC / str(self.pid) / "task").is_dir()

    def cpu_seconds(self) -> float:
        total = 0
        try:
            tasks = list((_PROC / str(self.pid) / "task").iterdir())
        except OSError:
            return 0.0
        for task in tasks:
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, IndexError, ValueError):
                continue  # a thread that ended meanwhile
        return total / 1e9

    def peak_rss_mib(self) -> float:
        try:
            status = (_PROC / str(self.pid) / "status").read_text()
        except OSError:
            return 0.0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def begin(self) -> None:
        try:
            (_PROC / str(self.pid) / "clear_refs").write_text("5")
            self._reset = True
        except OSError:
            self._reset = False
        self._cpu_at_begin = self.cpu_seconds()

    def end(self) -> ProcessSample:
        cpu = self.cpu_seconds() - self._cpu_at_begin
        return ProcessSample(cpu, self.peak_rss_mib(), not self._reset)
