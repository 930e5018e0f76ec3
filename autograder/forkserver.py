"""Starts the processes a runner needs (nbrunner's kernel, pyrunner's testers) as forks of a
process that split off from the runner before the runner read its key: what the student's code
runs in then holds nothing of the runner's (not the key, not the hidden tests, not the spec), and
yet starts warm, with whatever the runner's process had imported (in a warm sandbox, torch, the
kernel's machinery and the checks' guard: see ``zygote``).

    server = ForkServer(targets)      # first thing in the runner: before it reads its key
    proc = server.spawn("kernel", [connection_file], stdin=None)
    proc.poll(); proc.wait(); proc.pid

``targets`` maps a name to a function run in the new process (its arguments: the strings given
to ``spawn`` and then the file descriptors passed); the process exits with what it returns (0 for
None), 1 if it raises. Each process is its own session, as ``start_new_session`` makes it; its
standard input is the one given or ``/dev/null``; standard output and error are the runner's.

Copied beside the runners into the sandbox's read-only folder; it imports nothing from the
project.
"""

import contextlib
import ctypes
import json
import os
import select
import selectors
import signal
import socket
import sys
import traceback

MAX_MESSAGE = 64 * 1024
PR_SET_DUMPABLE = 4


class Forked:
    """A process the fork server started: the little of ``subprocess.Popen`` the runners use."""

    def __init__(self, server: "ForkServer", pid: int, pidfd: int) -> None:
        self.server, self.pid, self.pidfd = server, pid, pidfd
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            readable, _, _ = _select([self.pidfd], 0)
            if readable:
                self.returncode = self.server.status_of(self.pid)
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            readable, _, _ = _select([self.pidfd], timeout)
            if not readable:
                raise TimeoutError(f"process {self.pid} still running")
            self.returncode = self.server.status_of(self.pid)
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)

    def close(self) -> None:
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1


def _select(fds, timeout):
    return select.select(fds, [], [], timeout)


class ForkServer:
    def __init__(self, targets: dict) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            mine.close()
            code = 1
            try:
                _serve(theirs, targets)
                code = 0
            finally:
                os._exit(code)
        theirs.close()
        self.pid, self.sock = pid, mine
        self.statuses: dict[int, int] = {}

    def spawn(self, target: str, args=(), *, fds=(), stdin: int | None = None) -> Forked:
        """Start ``targets[target](*args, *fds)`` in a new process; ``fds`` are passed to it
        (the caller closes its own copies), ``stdin`` becomes its standard input."""
        passed = ([stdin] if stdin is not None else []) + list(fds)
        message = json.dumps({"target": target, "args": list(args), "stdin": stdin is not None})
        socket.send_fds(self.sock, [message.encode()], passed)
        while True:
            data, received, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, 1)
            if not data:
                raise RuntimeError("the fork server is gone")
            reply = json.loads(data)
            if "exited" in reply:
                self.statuses[reply["exited"]] = reply["status"]
                continue
            if "error" in reply:
                raise RuntimeError(f"the fork server could not start {target}: {reply['error']}")
            return Forked(self, reply["pid"], received[0])

    def close(self) -> None:
        """End the server: whatever it started and is still running is killed and reaped, then
        the server itself, so that their CPU time counts in this process's children's."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            while self.sock.recv(MAX_MESSAGE):
                pass
        self.sock.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def status_of(self, pid: int) -> int:
        """The exit status (``Popen.returncode``'s form) of a process that has ended."""
        while pid not in self.statuses:
            data = self.sock.recv(MAX_MESSAGE)
            if not data:
                return -signal.SIGKILL  # the server is gone: nothing can say otherwise
            reply = json.loads(data)
            if "exited" in reply:
                self.statuses[reply["exited"]] = reply["status"]
        return self.statuses[pid]


def _serve(sock: socket.socket, targets: dict) -> None:
    """The server's loop: a process per request, each reaped and its status sent back; ends when
    the runner closes its end. Not dumpable, nor what it starts (a fork keeps the flag): the
    student's code, under the same uid, cannot take the server's socket (``pidfd_getfd``,
    ptrace) to read another process's payload from it or to speak for the server, nor attach
    to a test process that runs hidden tests."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # never the runner's standard input (the key came that way)
    os.close(devnull)
    # Nor any other descriptor of the runner's (the report channel: a fork keeps even those
    # marked close-on-exec), only the standard ones and the server's socket.
    for fd in _open_fds():
        if fd > 2 and fd != sock.fileno():
            with contextlib.suppress(OSError):
                os.close(fd)
    os.environ.pop("AUTOGRADER_REPORT_FD", None)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ, None)
    while True:
        for key, _ in selector.select():
            if key.data is None:
                try:
                    data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 16)
                except OSError:
                    data, fds = b"", []
                if not data:
                    _end(selector)
                    return
                _start(sock, selector, targets, json.loads(data), fds)
            else:
                pid = key.data
                selector.unregister(key.fileobj)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                message = {"exited": pid, "status": os.waitstatus_to_exitcode(status)}
                with contextlib.suppress(OSError):
                    sock.send(json.dumps(message).encode())


def _end(selector) -> None:
    """Kill and reap what is still running."""
    for key in list(selector.get_map().values()):
        if key.data is None:
            continue
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(key.fd, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(key.data, 0)


def run_and_exit(work) -> None:
    """End a forked process with what ``work()`` returned (an int is the exit status; anything
    else 0), with ``SystemExit``'s status, or with 1 and the traceback on standard error; its
    output flushed first. Never returns: the fork must not go back into its parent's code."""
    code = 1
    try:
        result = work()
        code = result if isinstance(result, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def fresh_randomness() -> None:
    """A forked process starts with its parent's random generators; a process started fresh
    seeds its own. Python's ``random`` reseeds itself after a fork; numpy's and torch's global
    generators, where the parent imported them, are reseeded here from the system's entropy, so
    that no two runs (nor a run and the next) draw the same numbers. (The seed of ``hash()`` is
    the one thing a fork cannot change: it is the zygote's.)"""
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        with contextlib.suppress(Exception):
            numpy_random.seed()
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            torch.seed()


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 1024))


def _start(sock, selector, targets, request: dict, fds: list[int]) -> None:
    target = targets.get(request.get("target"))
    if target is None:
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"error": f"no target {request.get('target')!r}"}).encode())
        return
    stdin = fds.pop(0) if request.get("stdin") else None
    pid = os.fork()
    if pid == 0:

        def child() -> object:
            sock.close()
            os.setsid()
            if stdin is not None:
                os.dup2(stdin, 0)
                os.close(stdin)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            fresh_randomness()
            return target(*request.get("args", []), *fds)

        run_and_exit(child)
    for fd in fds + ([stdin] if stdin is not None else []):
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    selector.register(pidfd, selectors.EVENT_READ, pid)
    socket.send_fds(sock, [json.dumps({"pid": pid}).encode()], [pidfd])
