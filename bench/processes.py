"""What the benches read about processes: CPU seconds of a process and its descendants, and
memory, from the kernel's own accounts (``getrusage``, ``/proc`` through psutil).

The kernel adds a child's CPU time to its parent's once the parent waits for it (``RUSAGE_CHILDREN``
for this process, ``cutime``/``cstime`` in ``/proc/PID/stat`` for any other). So the CPU a piece
of work cost is the change, across it, of: this process's own time, the time of the children it
reaped, and, for each descendant still alive (a worker's pool process, a long-lived helper such
as a zygote that forks sandboxes), that process's own time and its reaped children's. A process
that ends and is reaped by a process outside that tree (re-parented to init) is not counted.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

import psutil


def rusage_seconds() -> float:
    """User + system seconds of this process and of the children it has reaped."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime


def _process_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def descendants_seconds(pid: int | None = None) -> tuple[float, int]:
    """User + system seconds of the live descendants of ``pid`` (this process by default), each
    with its reaped children's; and how many descendants there were."""
    try:
        found = psutil.Process(pid or os.getpid()).children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0, 0
    total = 0.0
    for process in found:
        try:
            total += _process_seconds(process)
        except psutil.NoSuchProcess:  # ended between the listing and the read: its parent has it
            continue
    return total, len(found)


def tree_seconds(pid: int) -> float:
    """User + system seconds of ``pid``, of the children it reaped and of its live descendants
    (each with what it reaped): the whole cost of a worker so far."""
    return _process_seconds(psutil.Process(pid)) + descendants_seconds(pid)[0]


@dataclass
class CpuSpan:
    """CPU used between ``start`` and ``stop`` by this process and its descendants; ``helpers``:
    how many descendants were alive at the end (long-lived ones whose CPU came from ``/proc``)."""

    rusage: float = 0.0  # this process and the children it reaped (getrusage)
    descendants: float = 0.0  # live descendants and what they reaped (/proc)
    helpers: int = 0

    @property
    def total(self) -> float:
        return self.rusage + self.descendants

    def start(self) -> CpuSpan:
        self._rusage = rusage_seconds()
        self._descendants = descendants_seconds()[0]
        return self

    def stop(self) -> CpuSpan:
        self.rusage = rusage_seconds() - self._rusage
        seconds, self.helpers = descendants_seconds()
        self.descendants = seconds - self._descendants
        return self


def status_bytes(pid: int, field: str) -> int:
    """A ``kB`` field of ``/proc/PID/status`` in bytes (``VmHWM``: the peak resident set size;
    ``VmRSS``: the current one); 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0


def mib(size: float) -> str:
    return f"{size / 2**20:.0f} MiB"
