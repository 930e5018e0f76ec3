"""Warm sandboxes: each worker process keeps a zygote (``autograder/zygote.py``) that has imported
torch, the kernel and the runners once, and asks it for one sandboxed child per run. A run then
costs a fork and the student's own work, not an interpreter, a kernel and torch each time.

Where it is used: a worker running as root on a host where bubblewrap works (the zygote runs in
bubblewrap, and builds each child's namespaces as root; ``zygote``'s docstring has what a child
gets), for the runners (``nbrunner``, ``pyrunner``) on a scratch directory made under
``scratch_parent()``. Elsewhere, or with ``AUTOGRADER_WARM=off``, every run is a cold
bubblewrap sandbox as before (``runner``). A zygote that cannot start or dies is replaced; until
one answers, runs are cold (logged).

What a warm run shares with the next one: nothing it can reach. Each is a fresh fork of the zygote
(which never runs a student's code), in namespaces of its own that end with it, with its own
``/tmp``, ``/dev/shm``, ``/proc``, loopback, IPC and uid; the folders of the other runs are out of
its sight. ``tests/autograder/hostile/test_back_to_back.py`` grades hostile and honest submissions
back to back on one zygote.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import autograder.sandbox.bubblewrap as bubblewrap
import autograder.sandbox.host as host
from autograder.failures import InfrastructureFault
from autograder.sandbox.limits import Limits, rlimits_for
from autograder.sandbox.seccomp import sandbox_filter

logger = logging.getLogger(__name__)
PROGRAMS = Path(__file__).resolve().parent.parent  # autograder/: the zygote and the runners
COPIED = (
    "zygote.py",
    "nbrunner.py",
    "nbkernel.py",
    "pyrunner.py",
    "pytester.py",
    "keyholder.py",
    "forkserver.py",
    "probes.py",
    "guard.py",
)
# One thread each for the math libraries (OpenBLAS starts a pool when numpy is imported: a
# process that forks must have no other thread), and no debugger notice on every start.
ZYGOTE_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
START_SECONDS = 180.0  # importing torch on a loaded machine
RESULT_GRACE_SECONDS = 5.0
RETRY_SECONDS = 60.0  # after a zygote failed to start, runs are cold this long before a retry
MAX_MESSAGE = 1 << 20
CAPABILITIES = (
    "CAP_SYS_ADMIN",  # the child's namespaces and mounts
    "CAP_SETUID",
    "CAP_SETGID",
    "CAP_SETPCAP",  # emptying the runner's bounding set
    "CAP_KILL",
    "CAP_NET_ADMIN",  # the child's loopback up
    "CAP_SYS_RESOURCE",  # the child's IPC namespace capped
    "CAP_DAC_OVERRIDE",  # the run's scratch directory belongs to the run's uid
    "CAP_DAC_READ_SEARCH",
)


class SandboxLost(InfrastructureFault):
    """The zygote that started a run ended before it could say how the run ended."""


def wanted() -> bool:
    """Whether runs should be warm here: ``AUTOGRADER_WARM`` is not ``off``, the worker is root
    and bubblewrap works (see the module's docstring)."""
    setting = os.environ.get("AUTOGRADER_WARM", "auto").strip().lower()
    if setting in ("off", "0", "false", "no"):
        return False
    if os.environ.get("AUTOGRADER_SANDBOX", "auto").strip().lower() == "rlimits":
        return False
    return host.is_root() and bubblewrap.works(bubblewrap.BWRAP)[0]


def scratch_parent() -> Path | None:
    """Where a run's scratch directory must be made to run warm (None: anywhere; cold)."""
    if not wanted():
        return None
    return _root()


_lock = threading.Lock()
_state: dict = {}


def _root() -> Path:
    """This process's folder of scratch directories (its zygote sees it, and only it), in the
    temporary folder as it is now: a process that moved it (tests do) gets a new one, and a new
    zygote. A forked process (a Celery worker's child) never uses its parent's."""
    with _lock:
        key = (os.getpid(), tempfile.gettempdir())
        if _state.get("key") != key:
            zygote = _state.get("zygote")
            if zygote is not None and _state["key"][0] == os.getpid():
                zygote.close()
            _remove_orphans(Path(key[1]))
            root = Path(tempfile.mkdtemp(prefix=f"autograder-warm-{os.getpid()}-"))
            root.chmod(0o711)
            _state.clear()
            _state.update(root=root, key=key)
            atexit.register(shutil.rmtree, root, True)
        return _state["root"]


def _remove_orphans(folder: Path) -> None:
    """The folders of scratch directories that worker processes killed outright (no ``atexit``)
    left behind: those whose process is gone."""
    for orphan in folder.glob("autograder-warm-*-*"):
        try:
            pid = int(orphan.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(orphan, ignore_errors=True)


def prestart() -> None:
    """Start this process's zygote now (a worker process, before its first task), if runs are
    to be warm, without waiting for it to be ready; never raises."""
    try:
        if wanted():
            _zygote()
    except Exception:
        logger.exception("could not start the warm sandbox's zygote; runs are cold until it does")


def _zygote() -> Zygote | None:
    root = _root()
    with _lock:
        zygote = _state.get("zygote")
        if zygote is not None and zygote.alive():
            return zygote
        if zygote is not None:
            zygote.close()
        _state["zygote"] = None
        if time.monotonic() < _state.get("retry_at", 0.0):
            raise RuntimeError("the zygote failed to start a moment ago")
        try:
            zygote = Zygote(root)
        except Exception:
            _state["retry_at"] = time.monotonic() + RETRY_SECONDS
            raise
        _state["zygote"] = zygote
        return zygote


class Zygote:
    """One zygote process in bubblewrap, and the socket to ask it for runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        programs = root / "programs"
        programs.mkdir(exist_ok=True)
        for name in COPIED:
            shutil.copyfile(PROGRAMS / name, programs / name)
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = host.minimal_env(root, ZYGOTE_ENV)
        argv = [host.resolved_program(sys.executable), "-I", "-B", str(programs / "zygote.py")]
        command = _command([*argv, str(theirs.fileno())], root, env)
        self.lock = threading.Lock()
        self.sock = mine
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        self.ready = False

    def wait_ready(self) -> None:
        """Wait until the zygote has imported what it preloads (once); RuntimeError if it does
        not say so within START_SECONDS."""
        if self.ready:
            return
        ready, _, _ = select.select([self.sock], [], [], START_SECONDS)
        reply = json.loads(self.sock.recv(MAX_MESSAGE) or b"{}") if ready else {}
        if not reply.get("ready"):
            self.close()
            raise RuntimeError("the zygote did not start")
        self.ready, self.loaded = True, int(reply.get("loaded", 0))
        mapped = self.loaded >> 20
        logger.info("warm sandbox zygote %s ready (%d MiB mapped)", self.proc.pid, mapped)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def start(self, request: dict, fds: list[int]) -> tuple[int, int]:
        """(pid, pidfd) of the run's pid 1; raises OSError when the zygote cannot start it."""
        with self.lock:
            self.wait_ready()
            socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
            ready, _, _ = select.select([self.sock], [], [], START_SECONDS)
            if not ready:
                raise OSError("the zygote did not answer")
            data, received, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, 1)
        reply = json.loads(data or b"{}")
        if "pid" not in reply or not received:
            for fd in received:
                os.close(fd)
            raise OSError(f"the zygote could not start the run: {reply.get('error', 'gone')}")
        return reply["pid"], received[0]


def _command(argv: list[str], root: Path, env: dict[str, str]) -> list[str]:
    args = [bubblewrap.BWRAP, "--unshare-ipc", "--unshare-uts", "--unshare-net"]
    args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    args += bubblewrap.mounts(root, [], Limits())
    args += ["--chdir", str(root), "--clearenv"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    args += ["--cap-drop", "ALL"]
    for cap in CAPABILITIES:
        args += ["--cap-add", cap]
    return [*args, "--", *argv]


@dataclass
class WarmProcess:
    """A warm run as the supervisor sees it (what it uses of ``subprocess.Popen``): its pid 1 in
    the host's pid namespace, with a pidfd; the exit status and usage come from the zygote."""

    pid: int
    pidfd: int
    stdin: object
    stdout: object
    stderr: object
    result_fd: int
    returncode: int | None = None
    is_sandbox_init = True

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)

    def reap(self):
        """(wait status, usage) once the run has ended; the zygote writes them when it has
        reaped the run's pid 1 (a zygote gone meanwhile: killed, no usage known)."""
        data, deadline = b"", time.monotonic() + RESULT_GRACE_SECONDS
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.result_fd], [], [], deadline - time.monotonic())
            if not ready:
                break
            chunk = os.read(self.result_fd, 4096)
            if not chunk:
                break
            data += chunk
        os.close(self.result_fd)
        os.close(self.pidfd)
        try:
            report = json.loads(data)
            usage = SimpleNamespace(
                ru_utime=report["utime"], ru_stime=report["stime"], ru_maxrss=report["maxrss"]
            )
            return report["status"], usage
        except (ValueError, KeyError):
            # Only the zygote writes there, after reaping the run: it died (and the run with it).
            raise SandboxLost(
                "the warm sandbox's zygote ended during the run; the run was lost with it"
            ) from None


def start(
    runner: str,
    args: list[str],
    *,
    workdir: Path,
    env: dict[str, str],
    limits: Limits,
    uid: int,
    has_stdin: bool,
    report_write: int,
    replaced: dict[Path, Path],
) -> tuple[WarmProcess, tuple[int, ...]] | None:
    """A warm run of ``runner`` (None when this process has no zygote that answers: run it
    cold). Returns the process and the fds the caller holds until the run is over (the
    lifeline's write end)."""
    root = _root() if wanted() else None
    if root is None or not workdir.is_relative_to(root):
        return None
    if not all(Path(source).is_relative_to(root) for source in replaced.values()):
        return None  # the child shows them from its own view, where only the root is
    try:
        zygote = _zygote()
    except Exception:
        logger.exception("the warm sandbox's zygote did not start; this run is cold")
        return None
    program = sandbox_filter()
    # The address space as the memory limit alone: the child adds what it maps already.
    rlimits = rlimits_for(limits)
    request = {
        "runner": runner,
        "args": args,
        "workdir": str(workdir),
        "root": str(root),
        "uid": uid,
        "env": env,
        "rlimits": rlimits,
        "tmp_bytes": limits.file_size_bytes,
        "seccomp": program.hex() if program else "",
        "replaced": {str(dest): str(source) for dest, source in replaced.items()},
    }
    pipes = [os.pipe() for _ in range(4)]  # stdin, stdout, stderr, result
    lifeline_read, lifeline_write = os.pipe()
    (in_r, in_w), (out_r, out_w), (err_r, err_w), (res_r, res_w) = pipes
    theirs = [in_r, out_w, err_w, report_write, lifeline_read, res_w]
    try:
        pid, pidfd = zygote.start(request, theirs)
    except (OSError, RuntimeError):
        logger.exception("the zygote could not start a run; this run is cold")
        with _lock:
            _state["retry_at"] = time.monotonic() + RETRY_SECONDS
        for fd in (in_w, out_r, err_r, res_r, lifeline_write):
            os.close(fd)
        return None
    finally:
        for fd in theirs:
            if fd != report_write:
                os.close(fd)
    stdin = os.fdopen(in_w, "wb", buffering=0)
    if not has_stdin:
        stdin.close()
        stdin = None
    proc = WarmProcess(
        pid=pid,
        pidfd=pidfd,
        stdin=stdin,
        stdout=os.fdopen(out_r, "rb", buffering=0),
        stderr=os.fdopen(err_r, "rb", buffering=0),
        result_fd=res_r,
    )
    return proc, (lifeline_write,)
