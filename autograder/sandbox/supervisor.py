"""Runs one prepared command and watches it: its own session, stdin fed, the head of stdout and
stderr kept, the wall clock enforced, the whole process group killed, the child reaped, and why it
stopped worked out. The child's output is only ever kept as bytes and decoded as text."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox.host import torch_address_space
from autograder.sandbox.limits import Limits, SandboxResult, rlimit_command, rlimit_setter

CHUNK = 64 * 1024
KILL_GRACE_SECONDS = 5.0  # after SIGKILL, how long to wait for the exit to be seen
ESCALATE_SECONDS = 1.0  # how long the sandbox's pid 1 may take to exit once its child is killed
DRAIN_SECONDS = 1.0  # after the exit, how long to read pipes a stray process may hold open
# How often the scratch directory is measured while the program runs: a program can write a few GB
# a second into the page cache, so what it overshoots the limit by is that rate times this interval.
# The interval is ten times what the last measurement cost (a tree of many entries costs more to
# walk), between these bounds, so the supervisor spends at most a tenth of a core on it.
DISK_POLL_MIN_SECONDS = 0.02
DISK_POLL_MAX_SECONDS = 0.25
DISK_POLL_COST_FACTOR = 10
REPORT_BYTES = 64 * 1024  # kept of the report channel; more is dropped, the run goes on
MEMORY_MARKERS = (
    "MemoryError",
    "Cannot allocate memory",
    "can't allocate memory",
    "std::bad_alloc",
    "out of memory",
)


@dataclass
class Spawn:
    """A command ready to start, and how."""

    argv: list[str]
    isolation: str
    cwd: Path | None = None
    env: dict[str, str] | None = None
    user: int | None = None
    group: int | None = None
    pass_fds: tuple[int, ...] = ()  # handed to the child, closed here once it has started
    hold_fds: tuple[int, ...] = ()  # kept open here until the run is over, then closed
    watch_dir: Path | None = None  # the scratch directory, held to Limits.disk_*
    report_fd: int | None = None  # the read end of the report channel, closed when the run ends
    # Already started elsewhere (a warm sandbox: ``warm.WarmProcess``), instead of ``argv``.
    process: object | None = None


class _Head:
    """The first ``cap`` bytes of a stream, and whether there was more."""

    def __init__(self, cap: int) -> None:
        self.data = bytearray()
        self.cap = cap
        self.truncated = False

    def add(self, chunk: bytes) -> bool:
        room = self.cap - len(self.data)
        if len(chunk) > room:
            self.data += chunk[: max(room, 0)]
            self.truncated = True
        else:
            self.data += chunk
        return self.truncated

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def supervise(spawn: Spawn, limits: Limits, stdin: bytes | None) -> SandboxResult:
    started = time.monotonic()
    try:
        if spawn.process is not None:
            proc = spawn.process
            _close(spawn.pass_fds)
        else:
            proc = _start(spawn, limits, has_stdin=stdin is not None)
    except OSError as exc:  # the program itself could not be started (rlimits fallback only)
        _close(spawn.hold_fds)
        _close(() if spawn.report_fd is None else (spawn.report_fd,))
        return _not_started(spawn, exc)
    run = _Run(spawn, limits, proc, stdin, started)
    try:
        run.pump()
    finally:
        run.reap()
    return run.result()


def _start(spawn: Spawn, limits: Limits, *, has_stdin: bool) -> subprocess.Popen:
    """The rlimits are set by a ``prlimit`` in front of the command, not by a ``preexec_fn``,
    which would make CPython ``fork()`` the whole worker instead of ``vfork()`` (see
    ``limits.rlimit_command``). ``user``/``group`` (the rlimits fallback as root) rule out vfork
    all the same in CPython 3.11: ``_posixsubprocess`` vforks only without them, since glibc's
    setuid would signal the parent's threads from the child sharing its memory."""
    loaded = torch_address_space()
    prefix = rlimit_command(limits, loaded)
    try:
        return subprocess.Popen(
            [*prefix, *spawn.argv],
            stdin=subprocess.PIPE if has_stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=spawn.cwd,
            env=spawn.env,
            user=spawn.user,
            group=spawn.group,
            extra_groups=[] if spawn.user is not None else None,
            start_new_session=True,
            pass_fds=spawn.pass_fds,
            preexec_fn=None if prefix else rlimit_setter(limits, loaded),
        )
    finally:
        _close(spawn.pass_fds)


def _close(fds: tuple[int, ...]) -> None:
    for fd in fds:
        os.close(fd)


class _Run:
    def __init__(
        self,
        spawn: Spawn,
        limits: Limits,
        proc: subprocess.Popen,
        stdin: bytes | None,
        started: float,
    ) -> None:
        self.spawn, self.limits, self.proc = spawn, limits, proc
        self.out, self.err = _Head(limits.output_bytes), _Head(limits.output_bytes)
        self.report = _Head(REPORT_BYTES)
        self.killed_for: str | None = None
        self.killed_at = self.exited_at = self.ended_at = 0.0
        self.escalate_at: float | None = None
        self.sandbox_init: tuple[int, int] | None = None  # the sandbox's pid 1: (pid, pidfd)
        self.status, self.usage = 0, None
        self.started, self.deadline = started, started + limits.wall_seconds
        self.disk_check_at = started if spawn.watch_dir is not None else None
        self.pending = memoryview(stdin or b"")
        if getattr(proc, "is_sandbox_init", False):  # a warm sandbox's pid 1 itself
            self.sandbox_init = (proc.pid, os.dup(proc.pidfd))
        try:
            self.pidfd = os.dup(proc.pidfd) if hasattr(proc, "pidfd") else os.pidfd_open(proc.pid)
        except OSError:  # kernels before 5.3: do not leave the child running
            self._kill_group()
            proc.wait()
            raise
        self.selector = self._selector()

    def _selector(self) -> selectors.BaseSelector:
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ, self._on_stdout)
        selector.register(self.proc.stderr, selectors.EVENT_READ, self._on_stderr)
        selector.register(self.pidfd, selectors.EVENT_READ, self._on_exit)
        if self.spawn.report_fd is not None:
            selector.register(self.spawn.report_fd, selectors.EVENT_READ, self._on_report)
        if self.proc.stdin is not None:
            os.set_blocking(self.proc.stdin.fileno(), False)
            selector.register(self.proc.stdin, selectors.EVENT_WRITE, self._on_stdin)
        return selector

    def pump(self) -> None:
        """Read, write and wait until the child has exited and its pipes are closed, killing it
        at the deadline; never blocks on anything but the selector."""
        while self.selector.get_map():
            now = time.monotonic()
            if self.killed_for is None and not self.exited_at and now >= self.deadline:
                self._kill("timeout")
            if self.disk_check_at is not None and now >= self.disk_check_at:
                self._check_disk(now)
            if self.escalate_at is not None and now >= self.escalate_at:
                self._kill_everything()
            give_up_at = self._give_up_at()
            if give_up_at is not None and now >= give_up_at:
                break
            wake_at = min(
                t for t in (give_up_at or self.deadline, self.escalate_at, self.disk_check_at) if t
            )
            for key, _ in self.selector.select(max(0.0, wake_at - now)):
                key.data(key.fileobj)

    def _check_disk(self, now: float) -> None:
        if self.killed_for is not None or self.exited_at:
            self.disk_check_at = None
            return
        if disk_over(self.spawn.watch_dir, self.limits):
            self._kill("disk_limit")
            self.disk_check_at = None
            return
        measured = time.monotonic()
        interval = DISK_POLL_COST_FACTOR * (measured - now)
        self.disk_check_at = measured + min(
            DISK_POLL_MAX_SECONDS, max(DISK_POLL_MIN_SECONDS, interval)
        )

    def _give_up_at(self) -> float | None:
        if self.exited_at:
            return self.exited_at + DRAIN_SECONDS
        if self.killed_for is not None:
            return self.killed_at + KILL_GRACE_SECONDS
        return None

    def _read(self, fileobj) -> bytes:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        data = os.read(fd, CHUNK)
        if not data:
            self.selector.unregister(fileobj)
        return data

    def _on_stdout(self, fileobj) -> None:
        if self.out.add(self._read(fileobj)) and self.killed_for is None:
            self._kill("output_limit")

    def _on_stderr(self, fileobj) -> None:
        if self.err.add(self._read(fileobj)) and self.killed_for is None:
            self._kill("output_limit")

    def _on_report(self, fileobj) -> None:
        self.report.add(self._read(fileobj))

    def _on_exit(self, fileobj) -> None:
        self.exited_at, self.escalate_at = time.monotonic(), None
        self.selector.unregister(fileobj)
        self._kill_group()  # whatever the program left running in its group goes with it

    def _on_stdin(self, fileobj) -> None:
        try:
            written = os.write(fileobj.fileno(), self.pending[:CHUNK])
            self.pending = self.pending[written:]
        except BlockingIOError:
            return
        except BrokenPipeError:
            self.pending = self.pending[:0]
        if not self.pending:
            self.selector.unregister(fileobj)
            fileobj.close()

    def _kill(self, reason: str) -> None:
        """SIGKILL it all. With bubblewrap, first what the sandbox's pid 1 started: pid 1 then
        reaps it (so its CPU time still counts) and exits, and the kernel kills whatever is left
        in the pid namespace. The kernel does not count what it kills there, so pid 1 itself is
        only killed if it has not gone within ESCALATE_SECONDS (meanwhile the pipes are still
        read: pid 1 may be blocked writing to a full one)."""
        self.killed_for, self.killed_at = reason, time.monotonic()
        if self.sandbox_init is None and self.spawn.isolation == "bubblewrap":
            self.sandbox_init = _sandbox_init(monitor=self.proc.pid)
        if self.sandbox_init is None:
            self._kill_everything()
            return
        _kill_children_of(self.sandbox_init[0])
        self.escalate_at = self.killed_at + ESCALATE_SECONDS

    def _kill_everything(self) -> None:
        self.escalate_at = None
        if self.sandbox_init is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.sandbox_init[1], signal.SIGKILL)
        self._kill_group()

    def _kill_group(self) -> None:
        if hasattr(self.proc, "kill_group"):
            self.proc.kill_group()
            return
        # Safe from pid reuse: the child is reaped only after this, so its pid, which is the
        # group's id, cannot have been given to another process.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def reap(self) -> None:
        self.ended_at = time.monotonic()
        self._kill_group()
        if hasattr(self.proc, "reap"):
            self.status, self.usage = self.proc.reap()
        else:
            _, self.status, self.usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(self.status)  # Popen must not reap it
        os.close(self.pidfd)
        if self.sandbox_init is not None:
            os.close(self.sandbox_init[1])
        _close(self.spawn.hold_fds)
        _close(() if self.spawn.report_fd is None else (self.spawn.report_fd,))
        self.selector.close()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def result(self) -> SandboxResult:
        exit_code, sig = _decode(self.status, self.spawn.isolation)
        cpu = self.usage.ru_utime + self.usage.ru_stime
        stderr = self.err.text()
        return SandboxResult(
            exit_code=exit_code,
            signal=sig,
            stdout=self.out.text(),
            stderr=stderr,
            stdout_truncated=self.out.truncated,
            stderr_truncated=self.err.truncated,
            wall_seconds=(self.exited_at or self.ended_at) - self.started,
            cpu_seconds=cpu,
            max_rss_bytes=self.usage.ru_maxrss * 1024,
            stopped_because=_stopped_because(
                self.killed_for, exit_code, sig, cpu, self.limits, stderr[-4096:]
            ),
            isolation=self.spawn.isolation,
            report=self.report.text(),
        )


def _sandbox_init(*, monitor: int) -> tuple[int, int] | None:
    """The sandbox's pid 1 as (pid, pidfd): the one child of bubblewrap's monitor; None before
    bubblewrap has started it. (Not from bubblewrap's --info-fd: a monitor that outlives the
    worker would die writing to it, and leave the sandbox waiting forever to be let go.)"""
    children = _children_of(monitor)
    if len(children) != 1:
        return None
    pidfd = _pidfd_of_child(children[0], parent=monitor)
    return None if pidfd is None else (children[0], pidfd)


def _children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def _pidfd_of_child(pid: int, *, parent: int) -> int | None:
    """A pidfd for ``pid``, trusted only if, once it is open (which pins the process), the
    process is still ``parent``'s child: a pid number alone may have been reused."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            actual_parent = int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        actual_parent = None
    if actual_parent != parent:
        os.close(pidfd)
        return None
    return pidfd


def _kill_children_of(pid: int) -> None:
    for child in _children_of(pid):
        pidfd = _pidfd_of_child(child, parent=pid)
        if pidfd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            os.close(pidfd)


def disk_over(root: Path, limits: Limits) -> bool:
    """Whether ``root`` holds more than ``limits.disk_bytes`` (blocks really allocated: a sparse
    file costs what it stores) or more than ``limits.disk_entries`` entries. Links are not
    followed; a folder that cannot be read counts as empty. Stops as soon as it knows, so a
    folder of a million files costs ``disk_entries`` stat calls, not a million."""
    used, entries, stack = 0, 0, [root]
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    entries += 1
                    if entries > limits.disk_entries:
                        return True
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    used += info.st_blocks * 512
                    if used > limits.disk_bytes:
                        return True
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return False


def _decode(status: int, isolation: str) -> tuple[int | None, int | None]:
    """(exit code, signal). bubblewrap passes on a signal death as exit status 128 + signal, like
    a shell, so under bubblewrap a program's own ``exit(128 + n)`` reads as signal n too."""
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    code = os.waitstatus_to_exitcode(status)
    if isolation == "bubblewrap" and 128 < code <= 128 + signal.SIGRTMAX:
        return None, code - 128
    return code, None


def _stopped_because(
    killed_for: str | None,
    exit_code: int | None,
    sig: int | None,
    cpu_seconds: float,
    limits: Limits,
    stderr_tail: str,
) -> str:
    if killed_for is not None:
        return killed_for
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_seconds >= 0.9 * limits.cpu_seconds):
        return "cpu_limit"
    failed = sig is not None or exit_code != 0
    if failed and any(marker in stderr_tail for marker in MEMORY_MARKERS):
        return "memory_limit"
    return "signal" if sig is not None else "exited"


def _not_started(spawn: Spawn, exc: OSError) -> SandboxResult:
    """The shape a shell gives a command it cannot run: 127 when missing, 126 otherwise."""
    code = 127 if isinstance(exc, FileNotFoundError) else 126
    return SandboxResult(
        exit_code=code,
        signal=None,
        stdout="",
        stderr=f"{spawn.argv[0]}: {exc.strerror or exc}\n",
        stdout_truncated=False,
        stderr_truncated=False,
        wall_seconds=0.0,
        cpu_seconds=0.0,
        max_rss_bytes=0,
        stopped_because="exited",
        isolation=spawn.isolation,
    )
