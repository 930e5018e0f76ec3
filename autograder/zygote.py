"""The warm sandbox's zygote: a fresh interpreter that imports, once, what every grading needs
(torch, the kernel's machinery, nbclient, the checks' guard and probes, the runners) and then forks
one sandboxed child per run, which is as warm as the zygote and holds nothing of any other run.

    python -I -B zygote.py CONTROL_FD        (started by ``autograder.sandbox.warm``)

It runs inside bubblewrap as root (the worker's uid), with the sandbox's view of the filesystem
(the system, the Python installation, the worker's folder of scratch directories) and the few
capabilities it needs to build each child's sandbox; it never runs a byte of a student's, never
sees a key (each runner reads its own from its standard input), never loads Django, settings or
a database connection, and has nothing in its memory that a run should not see: the requests it
gets name folders, uids and limits.

Each request (``CONTROL_FD``: a SOCK_SEQPACKET socket) names a runner (``nbrunner`` or
``pyrunner``), its arguments, the scratch directory, the run's uid, environment and limits, and
passes the run's standard input, output and error, its report channel, its lifeline and a pipe for
its result. The child is cloned into new mount, pid, network, IPC, UTS and cgroup namespaces and is
pid 1 there (``_init``); it mounts a fresh, size-capped ``/tmp`` and ``/dev/shm`` and a few
pseudo-terminals of its own, binds its scratch directory back at its own path (the folder of every
other run is under the old ``/tmp``, out of sight), shows the replaced files, mounts a ``/proc`` of
its own, brings up its own loopback, and forks the runner, which drops to the run's uid with no
capabilities (an empty bounding set, no-new-privs), takes the run's rlimits (the address space
counted on top of what it maps already, so the memory limit means the same room as in a cold
sandbox), loads the seccomp filter and runs the runner's ``cli``. The zygote reaps the child and
writes its wait status and resource usage into the result pipe.

It imports nothing from the project but the runners and their siblings copied beside it.
"""

import contextlib
import ctypes
import fcntl
import json
import os
import platform
import resource
import selectors
import signal
import socket
import struct
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(HERE)

import forkserver  # noqa: E402  (a sibling, beside this file)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACES = (
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET
)
SYS_CLONE = {"x86_64": 56, "aarch64": 220}
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_SECCOMP, PR_CAPBSET_DROP = 1, 22, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
SECCOMP_MODE_FILTER = 2
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
REPORT_FD = 3  # where the runner finds its report channel
PTYS = 8  # pseudo-terminals a run may hold at once
MAX_MESSAGE = 1 << 20
RUNNERS = ("nbrunner", "pyrunner")

KERNEL_MODULES = (
    "ipykernel.debugger",
    "IPython.core.debugger",
    "IPython.core.completerlib",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "psutil",
)

libc = ctypes.CDLL(None, use_errno=True)
_raw = ctypes.PyDLL(None, use_errno=True)  # the GIL held across clone, as os.fork holds it
_raw.syscall.restype = ctypes.c_long


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


CAPABILITY_VERSION_3 = 0x20080522


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def warm_up() -> None:
    """What every run would otherwise load itself: imported here once."""
    import torch

    torch.set_num_threads(1)  # a fork of a process whose thread pool ran can deadlock
    with contextlib.suppress(Exception):  # the guard's dispatch mode pulls it in at first use
        import torch._dynamo
    with contextlib.suppress(Exception):
        import numpy  # noqa: F401
    import guard  # noqa: F401
    import ipykernel.ipkernel
    import ipykernel.kernelapp  # noqa: F401
    import nbformat
    import nbrunner  # noqa: F401
    import probes  # noqa: F401
    import pyrunner  # noqa: F401

    # What the kernel's start imports (its debugger alone: 0.2 s) and the notebook's schema.
    for name in KERNEL_MODULES:
        with contextlib.suppress(Exception):
            __import__(name)
    with contextlib.suppress(Exception):  # the kernel's addresses: the same loopback in a child
        from jupyter_client import localinterfaces

        localinterfaces.localhost()
    cell = nbformat.v4.new_code_cell("1")
    nbformat.reads(nbformat.writes(nbformat.v4.new_notebook(cells=[cell])), as_version=4)

    torch.ones(2) + torch.ones(2)  # the first op's one-time setup, done here


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _clone() -> int:
    number = SYS_CLONE.get(platform.machine())
    if number is None:
        raise OSError(f"no clone() number known for {platform.machine()}")
    ctypes.pythonapi.PyOS_BeforeFork()
    pid = _raw.syscall(number, NAMESPACES | signal.SIGCHLD, 0, 0, 0, 0)
    err = ctypes.get_errno()
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
    else:
        ctypes.pythonapi.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone: {os.strerror(err)}")
    return pid


def _mount(source, target, fstype, flags, data=None) -> None:
    args = [None if x is None else os.fsencode(x) for x in (source, target, fstype, data)]
    result = libc.mount(args[0], args[1], args[2], ctypes.c_ulong(flags), args[3])
    _check(result, f"mount {target}")


def _cap_ipc(room: int) -> None:
    """System V shared memory and message queues are memory that no rlimit counts: in the run's
    own IPC namespace, at most ``room`` bytes of shared memory in all (as ``/dev/shm``), each
    segment removed once no process has it attached, and a few small queues."""
    page = os.sysconf("SC_PAGE_SIZE")
    for name, value in (
        ("shmmax", room),
        ("shmall", max(1, room // page)),
        ("shmmni", 64),
        ("shm_rmid_forced", 1),
        ("msgmni", 16),
    ):
        with open(f"/proc/sys/kernel/{name}", "w") as setting:
            setting.write(str(value))


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _close_all_but(keep) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _init(request: dict, fds: dict) -> int:
    """Pid 1 of the run's namespaces: builds its view, starts the lifeline's watcher and the
    runner, and exits with the runner's status (128 + n for a signal, as bubblewrap reports it),
    which ends the namespace and everything left in it."""
    _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    _close_all_but(set(fds.values()))
    workdir = request["workdir"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Opened by path here, before /tmp is covered: a bind's source must be a mount of this
    # namespace (a file opened by the worker, in the host's, is refused).
    work = os.open(workdir, os.O_PATH | os.O_DIRECTORY)
    replaced = {dest: os.open(source, os.O_PATH) for dest, source in request["replaced"].items()}
    size = f"size={request['tmp_bytes']},mode=1777"
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, size)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, size)
    # Pseudo-terminals of its own, a few (/dev/ptmx points here): not the host's pool.
    ptys = f"newinstance,ptmxmode=0666,mode=0620,max={PTYS}"
    _mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, ptys)
    root = request["root"]
    if os.path.commonpath([root, "/tmp"]) != "/tmp":  # else the fresh /tmp covers it already
        _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    # Every other run's folder is out of sight; the way down to this one is made anew, passable.
    umask = os.umask(0o022)
    os.makedirs(workdir, exist_ok=True)
    os.umask(umask)
    _mount(f"/proc/self/fd/{work}", workdir, None, MS_BIND)
    os.close(work)
    for dest, fd in replaced.items():
        _mount(f"/proc/self/fd/{fd}", dest, None, MS_BIND)
        _mount(None, dest, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _cap_ipc(request["tmp_bytes"])
    _check(libc.sethostname(b"sandbox", 7), "sethostname")
    _loopback_up()
    os.chdir("/")  # not the worker's folder of scratch directories, now out of sight
    lifeline = fds["lifeline"]
    if os.fork() == 0:  # the watcher: the worker gone, everything here goes
        _close_all_but({lifeline})
        with contextlib.suppress(OSError):
            os.read(lifeline, 1)
        os.kill(-1, signal.SIGKILL)
        os._exit(0)
    os.close(lifeline)
    runner = os.fork()
    if runner == 0:
        _runner(request, fds)
    _close_all_but(set())
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 0
        if pid == runner:
            if os.WIFSIGNALED(status):
                return 128 + os.WTERMSIG(status)
            return os.waitstatus_to_exitcode(status)


def _runner(request: dict, fds: dict) -> None:
    """The runner's process: the run's uid, limits and filter, then the runner itself."""

    def runner() -> None:
        os.setsid()
        os.dup2(fds["stdin"], 0)
        os.dup2(fds["stdout"], 1)
        os.dup2(fds["stderr"], 2)
        os.dup2(fds["report"], REPORT_FD)
        _close_all_but({0, 1, 2, REPORT_FD})
        os.chdir(request["workdir"])
        loaded = _vm_size()
        _drop_privileges(request["uid"])
        for res, soft, hard in request["rlimits"]:
            if res == resource.RLIMIT_AS:
                soft = hard = soft + loaded
            resource.setrlimit(res, (soft, hard))
        if request.get("seccomp"):
            program = bytes.fromhex(request["seccomp"])
            fprog = _SockFprog(len(program) // 8, program)
            result = libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)
            _check(result, "seccomp")
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["AUTOGRADER_REPORT_FD"] = str(REPORT_FD)
        module = sys.modules[request["runner"]]
        sys.argv = [module.__file__, *request["args"]]
        module.cli(request["args"])

    forkserver.run_and_exit(runner)


def _drop_privileges(uid: int) -> None:
    """The run's uid and gid for real, no supplementary groups, no capability left in any set
    (the bounding set emptied first, while CAP_SETPCAP still allows it), and no-new-privs."""
    with open("/proc/sys/kernel/cap_last_cap") as last:
        last_cap = int(last.read())
    for cap in range(last_cap + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "drop capability")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    # Changing uid clears the effective and permitted sets, not the inheritable one.
    empty = (_CapData * 2)()
    _check(libc.capset(ctypes.byref(_CapHeader(CAPABILITY_VERSION_3, 0)), empty), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if os.getuid() == 0 or os.geteuid() == 0:
        raise PermissionError("still root after dropping privileges")
    with open("/proc/self/status") as status:
        held = [line for line in status if line.startswith("Cap") and int(line.split()[1], 16)]
    if held:
        raise PermissionError(f"capabilities left after dropping privileges: {held}")


FD_NAMES = ("stdin", "stdout", "stderr", "report", "lifeline", "result")


def _start(sock, selector, request: dict, received: list[int]) -> None:
    fds = dict(zip(FD_NAMES, received, strict=False))
    if request.get("runner") not in RUNNERS or len(fds) != len(FD_NAMES):
        for fd in received:
            os.close(fd)
        sock.send(json.dumps({"error": "bad request"}).encode())
        return
    result = fds.pop("result")
    try:
        pid = _clone()
    except OSError as exc:
        for fd in received:
            os.close(fd)
        sock.send(json.dumps({"error": str(exc)}).encode())
        return
    if pid == 0:
        code = 127
        try:
            code = _init(request, fds)
        except BaseException:
            with contextlib.suppress(Exception):
                os.write(fds["stderr"], traceback.format_exc().encode())
        finally:
            os._exit(code)
    for fd in received:
        if fd != result:
            os.close(fd)
    pidfd = os.pidfd_open(pid)
    selector.register(pidfd, selectors.EVENT_READ, (pid, result))
    socket.send_fds(sock, [json.dumps({"pid": pid}).encode()], [pidfd])


def _reaped(pid: int, result: int) -> None:
    _, status, usage = os.wait4(pid, 0)
    report = {
        "status": status,
        "utime": usage.ru_utime,
        "stime": usage.ru_stime,
        "maxrss": usage.ru_maxrss,
    }
    with contextlib.suppress(OSError):
        os.write(result, json.dumps(report).encode())
    os.close(result)


def serve(control_fd: int) -> None:
    sock = socket.socket(fileno=control_fd)
    warm_up()
    if len(os.listdir("/proc/self/task")) != 1:
        print("zygote: threads are running; forks may deadlock", file=sys.stderr)
    sock.send(json.dumps({"ready": True, "loaded": _vm_size()}).encode())
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ, None)
    while True:
        for key, _ in selector.select():
            if key.data is None:
                try:
                    data, received, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 64)
                except ConnectionResetError:
                    return  # the worker is gone (killed before it closed its end)
                if not data:
                    return  # the worker is gone
                _start(sock, selector, json.loads(data), received)
            else:
                selector.unregister(key.fileobj)
                os.close(key.fd)
                _reaped(*key.data)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(int(sys.argv[1]))
