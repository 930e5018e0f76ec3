"""What a sandboxed run may use (``Limits``) and what came back (``SandboxResult``)."""

from __future__ import annotations

import math
import os
import resource
import shutil
from collections.abc import Callable
from dataclasses import dataclass

PRLIMIT = shutil.which("prlimit") or "/usr/bin/prlimit"  # util-linux, as setpriv is
PRLIMIT_OPTIONS = {
    resource.RLIMIT_CPU: "--cpu",
    resource.RLIMIT_AS: "--as",
    resource.RLIMIT_NPROC: "--nproc",
    resource.RLIMIT_NOFILE: "--nofile",
    resource.RLIMIT_FSIZE: "--fsize",
    resource.RLIMIT_CORE: "--core",
}
STOP_REASONS = (
    "exited",
    "timeout",
    "cpu_limit",
    "memory_limit",
    "output_limit",
    "disk_limit",
    "signal",
)


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 60.0  # then the whole sandbox is killed
    cpu_seconds: int = 60  # RLIMIT_CPU: SIGXCPU at this, SIGKILL one second later
    # What the program may take on top of the interpreter with torch loaded as on this host
    # (``host.torch_address_space``): RLIMIT_AS is the two together. A kernel with torch maps
    # ~1.3 GiB on a CPU build, of which ~631 MiB is torch; a CUDA build maps several GiB of
    # libraries that a CPU-only run never touches, which must not eat the program's memory.
    memory_bytes: int = 2 * 1024**3
    processes: int = 64  # RLIMIT_NPROC, threads included; enforced for the sandbox's own uid
    open_files: int = 256  # RLIMIT_NOFILE
    file_size_bytes: int = 64 * 1024**2  # RLIMIT_FSIZE; also the size of the private /tmp
    output_bytes: int = 1024**2  # kept of stdout and of stderr each; more stops the run
    # What the scratch directory may hold, all files together (RLIMIT_FSIZE caps one file), and
    # how many entries: watched while the program runs, more stops the run.
    disk_bytes: int = 512 * 1024**2
    disk_entries: int = 10_000


@dataclass(frozen=True)
class SandboxResult:
    exit_code: int | None  # None when killed by a signal
    signal: int | None
    stdout: str  # utf-8 with errors="replace", at most output_bytes of it
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    wall_seconds: float
    cpu_seconds: float  # user + system of every process in the sandbox that was reaped
    max_rss_bytes: int
    stopped_because: str  # one of STOP_REASONS
    isolation: str  # "bubblewrap" or "rlimits"
    # What the program wrote on its report channel (``run_sandboxed(report=True)``), a pipe that
    # only it holds: see ``autograder.execution``.
    report: str = ""

    @property
    def ok(self) -> bool:
        return self.stopped_because == "exited" and self.exit_code == 0


def rlimits_for(limits: Limits, loaded_bytes: int = 0) -> list[tuple[int, int, int]]:
    """(resource, soft, hard) triples; a hard limit is never raised above the caller's own.
    ``loaded_bytes``: the address space loading the interpreter and torch takes, on top of
    which the program gets ``memory_bytes``."""
    cpu = math.ceil(limits.cpu_seconds)
    address_space = limits.memory_bytes + loaded_bytes
    wanted = [
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_AS, address_space, address_space),
        (resource.RLIMIT_NPROC, limits.processes, limits.processes),
        (resource.RLIMIT_NOFILE, limits.open_files, limits.open_files),
        (resource.RLIMIT_FSIZE, limits.file_size_bytes, limits.file_size_bytes),
        (resource.RLIMIT_CORE, 0, 0),  # no core files in the scratch directory
    ]
    return [_clamped(res, int(soft), int(hard)) for res, soft, hard in wanted]


def _clamped(res: int, soft: int, hard: int) -> tuple[int, int, int]:
    _, current_hard = resource.getrlimit(res)
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
    return res, min(soft, hard), hard


def rlimit_command(limits: Limits, loaded_bytes: int = 0) -> list[str]:
    """A command prefix that sets the limits of ``rlimits_for`` and then execs the command after
    it: util-linux ``prlimit --cpu=S:H ... --``, which sets them on itself (as setrlimit would)
    and execs. [] where prlimit is missing; the caller then sets them in ``rlimit_setter``.

    Why not ``preexec_fn``: with one, CPython's subprocess has to ``fork()`` the worker, copying
    the page tables of everything it holds, where without one it may ``vfork()``: ``Popen``
    took 58 to 69 ms against 0.1 to 0.4 ms in a process with torch and 400 MB. A program
    prlimit cannot run ends as a shell's would: 127 when missing, 126 otherwise, with
    prlimit's message on stderr."""
    if not os.access(PRLIMIT, os.X_OK):
        return []
    options = [
        f"{PRLIMIT_OPTIONS[res]}={soft}:{hard}"
        for res, soft, hard in rlimits_for(limits, loaded_bytes)
    ]
    return [PRLIMIT, *options, "--"]


def rlimit_setter(limits: Limits, loaded_bytes: int = 0) -> Callable[[], None]:
    """A ``preexec_fn`` that only calls setrlimit on values computed beforehand: it runs in the
    forked child, where allocating or taking locks is what makes ``preexec_fn`` risky. Only where
    ``rlimit_command`` cannot be used (no prlimit on the host)."""
    triples = rlimits_for(limits, loaded_bytes)

    def apply() -> None:
        for res, soft, hard in triples:
            resource.setrlimit(res, (soft, hard))

    return apply
