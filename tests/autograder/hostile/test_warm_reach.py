"""What a warm run can reach, and which privileges it has: one probe cell tries to read, trace
and signal pid 1, the runner and the fork server, to gain privileges and to see or write outside
its own folder, and each test reads one finding; the kernel and pyrunner's testers cannot take the
fork server's or the runner's descriptors, and a temporary folder outside /tmp shows no other run.
The findings closed here (a dumpable fork server, inheritable capabilities, a temporary folder
outside /tmp) keep their tests (no database)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from autograder.sandbox import host
from tests.autograder.hostile.warm_cells import (
    HARNESS,
    LIMITS,
    SPEC,
    WARM_ATTACK,
    facts,
    printed,
    run_cells,
    warm_runs,  # noqa: F401  (the autouse fixture)
)

pytestmark = WARM_ATTACK


# Run by the student's kernel: each attempt's result, or the error it met, by name.
PROBE = r"""
import ctypes, errno, json, os, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
found = {}

def attempt(name, action):
    try:
        found[name] = ["ok", repr(action())[:400]]
    except OSError as exc:
        found[name] = ["error", errno.errorcode.get(exc.errno, str(exc.errno))]
    except Exception as exc:
        found[name] = ["error", type(exc).__name__]

def call(result):
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result

def attach(pid):  # PTRACE_ATTACH; were it allowed, the process is let go at once
    call(libc.ptrace(16, pid, 0, 0))
    os.waitpid(pid, 0x40000000)  # __WALL
    libc.ptrace(17, pid, 0, 0)  # PTRACE_DETACH
    return "attached"

def in_parent(result):  # a clone that worked: the child leaves at once
    if result == 0:
        os._exit(0)
    return call(result)

def read(path, size=64):
    with open(path, "rb") as handle:
        return handle.read(size)

kernel, server = os.getpid(), os.getppid()
runner = int(read(f"/proc/{server}/stat", 200).split(b")")[1].split()[1])
found["pids"] = {"kernel": kernel, "server": server, "runner": runner}
found["ids"] = [os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()]
status = open("/proc/self/status").read().splitlines()
found["status"] = dict(line.split(":\t", 1) for line in status if line.startswith(
    ("Cap", "NoNewPrivs", "Seccomp:")))
found["processes"] = {
    pid: read(f"/proc/{pid}/cmdline", 300).decode(errors="replace")
    for pid in os.listdir("/proc") if pid.isdigit()}
for pid, who in ((1, "init"), (2, "watcher"), (runner, "runner"), (server, "server")):
    for what in ("environ", "mem", "maps", "syscall"):
        attempt(f"read {who} {what}", lambda: read(f"/proc/{pid}/{what}"))
    for what in ("cwd", "root", "fd"):
        attempt(f"list {who} {what}", lambda: os.listdir(f"/proc/{pid}/{what}"))
    attempt(f"ptrace {who}", lambda: attach(pid))
    attempt(f"pidfd_getfd {who}",
            lambda: [call(libc.syscall(438, os.pidfd_open(pid), fd, 0)) for fd in range(6)])
attempt("signal init", lambda: os.kill(1, 0))
attempt("signal watcher", lambda: os.kill(2, 0))
attempt("setuid 0", lambda: os.setuid(0))
attempt("setgid 0", lambda: os.setgid(0))
attempt("unshare user", lambda: call(libc.unshare(0x10000000)))
attempt("unshare mount", lambda: call(libc.unshare(0x00020000)))
attempt("clone user", lambda: in_parent(libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)))
attempt("mount tmpfs", lambda: call(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)))
attempt("umount /tmp", lambda: call(libc.umount2(b"/tmp", 2)))
attempt("chroot", lambda: os.chroot("/tmp"))
attempt("mknod", lambda: os.mknod("/tmp/sda", 0o600 | 0o060000, os.makedev(8, 0)))
handle = ctypes.create_string_buffer(8 + 128)
struct.pack_into("I", handle, 0, 128)
mount_id = ctypes.c_int()
attempt("name_to_handle_at", lambda: call(libc.name_to_handle_at(-100, b"/", handle,
                                                                 ctypes.byref(mount_id), 0)))
attempt("open_by_handle_at", lambda: call(libc.open_by_handle_at(os.open("/", os.O_RDONLY),
                                                                 handle, 0)))
attempt("sethostname", lambda: call(libc.sethostname(b"x", 1)))
for path in ("/", "/tmp", "/dev", "/dev/shm", "/dev/pts", "..", "../..", "../../.."):
    attempt(f"list {path}", lambda: sorted(os.listdir(path)))
for path in ("/dev/attack", "/attack", "../attack", "../../attack", "/proc/sys/kernel/hostname"):
    attempt(f"write {path}", lambda: open(path, "w").write("x"))
attempt("write /dev/null", lambda: open("/dev/null", "w").write("x"))
found["cwd"] = os.getcwd()
found["mountinfo"] = open("/proc/self/mountinfo").read()
found["interfaces"] = [line.split(":")[0].strip() for line in open("/proc/net/dev")][2:]
found["hostname"] = socket.gethostname()
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def probed() -> dict:
    """One warm run of the probe (each test below reads what it found)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOGRADER_WARM", "auto")
        execution = run_cells(PROBE)
    assert execution.sandbox.stopped_because == "exited", execution.sandbox
    return facts(execution)


def test_the_probe_ran_warm_in_a_pid_namespace_of_its_own(probed):
    # Pid 1 and the watcher (root), the runner, the fork server, the kernel: all forks of the
    # zygote, nothing else (no zygote, no worker, no other run).
    processes = probed["processes"]
    assert sorted(processes, key=int) == ["1", "2", *sorted(map(str, probed["pids"].values()))]
    assert all("zygote.py" in command for command in processes.values())
    assert probed["hostname"] == "sandbox" and probed["interfaces"] == ["lo"]


def test_the_students_process_has_no_privilege_left(probed):
    uid, euid, gid, egid, groups = probed["ids"]
    assert uid == euid == gid == egid and uid >= host.UID_BASE and groups == []
    status = probed["status"]
    for name in ("CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[name], 16) == 0, (name, status[name])
    assert status["NoNewPrivs"] == "1" and status["Seccomp"] == "2"


def test_the_students_process_has_no_inheritable_capability_either(probed):
    # zygote._drop_privileges promises no capability in any set, as a cold sandbox has (0). A
    # file's inheritable capabilities would add these on exec, were no-new-privs not set.
    assert int(probed["status"]["CapInh"], 16) == 0


@pytest.mark.parametrize(
    "attempt",
    [
        "setuid 0",
        "setgid 0",
        "unshare user",
        "unshare mount",
        "clone user",
        "mount tmpfs",
        "umount /tmp",
        "chroot",
        "mknod",
        "open_by_handle_at",
        "sethostname",
    ],
)
def test_it_cannot_gain_privileges(probed, attempt):
    assert probed[attempt] == ["error", "EPERM"]


@pytest.mark.parametrize("who", ["init", "watcher", "runner", "server"])
def test_it_cannot_look_into_pid_1_the_runner_or_the_fork_server(probed, who):
    # The runner holds the key; pid 1 and its watcher are root with the zygote's capabilities;
    # the fork server holds the runner's socket (its requests carry a tester's descriptors).
    for what in ("environ", "mem", "maps", "syscall", "cwd", "root", "fd"):
        verb = "list" if what in ("cwd", "root", "fd") else "read"
        assert probed[f"{verb} {who} {what}"] == ["error", "EACCES"], what
    assert probed[f"ptrace {who}"] == ["error", "EPERM"]
    assert probed[f"pidfd_getfd {who}"] == ["error", "EPERM"]


def test_it_cannot_signal_pid_1(probed):
    assert probed["signal init"] == probed["signal watcher"] == ["error", "EPERM"]


def test_it_sees_only_its_own_folder_and_writes_nowhere_else(probed):
    work = Path(probed["cwd"])
    assert work.name == "work" and work.parent.name.startswith("grade-")
    # Above its folder: the path to it (made by pid 1 on the run's own /tmp), nothing else:
    # not the programs beside it, not the replaced files, not another run's folder.
    assert probed["list .."] == ["ok", repr(["work"])]
    assert probed["list ../.."] == ["ok", repr([work.parent.name])]
    assert probed["list /tmp"] == ["ok", repr([work.parent.parent.name])]
    assert probed["list /dev/shm"] == ["ok", "[]"]
    devices = {"console", "core", "fd", "full", "null", "ptmx", "pts", "random", "shm"}
    devices |= {"stderr", "stdin", "stdout", "tty", "urandom", "zero"}
    assert set(eval(probed["list /dev"][1])) <= devices
    for path in ("/dev/attack", "/attack", "../attack", "../../attack"):
        assert probed[f"write {path}"][0] == "error", path
    assert probed["write /proc/sys/kernel/hostname"][0] == "error"
    assert probed["write /dev/null"][0] == "ok"


def test_its_mounts_name_no_other_run_and_no_writable_host_folder(probed):
    # What mountinfo reveals: the worker's folder of scratch directories (the zygote's, under the
    # old /tmp, covered by the run's own), the interpreter's folders, this run's folder.
    work = probed["cwd"]
    mounts = [line.split(" - ")[0].split() for line in probed["mountinfo"].splitlines()]
    points = [(fields[4], fields[5].split(",")) for fields in mounts]
    named = {p for line in probed["mountinfo"].splitlines() for p in line.split() if "grade-" in p}
    assert named == {work}  # no other run's folder is named, not even covered
    root = str(Path(work).parent.parent)
    order = [point for point, _ in points]
    last_tmp = len(order) - 1 - order[::-1].index("/tmp")
    assert root.startswith("/tmp/") and order.index(root) < last_tmp  # mounted over it after
    devices = {f"/dev/{name}" for name in ("null", "zero", "full", "random", "urandom", "tty")}
    writable = {"/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/tmp", root, work, *devices}
    for point, options in points:
        assert "ro" in options or point in writable, point


# The kernel (or a tester) is a child of the fork server; the fork server holds the socket the
# runner sends its spawn requests on, with the next process's descriptors (a hidden tester's
# standard input carries the hidden tests). Taken with pidfd_getfd, the socket lets the
# student's code receive those requests and answer them in the server's place.
TAKE_THE_SERVERS_SOCKET = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
server = os.pidfd_open(os.getppid())
taken = [libc.syscall(438, server, fd, 0) for fd in range(16)]
print(sorted(os.readlink(f"/proc/self/fd/{fd}").split(":")[0] for fd in taken if fd >= 0))
"""


@pytest.mark.parametrize(
    "start",
    [
        "warm",
        "cold",
    ],
)
def test_the_kernel_cannot_take_the_fork_servers_socket(monkeypatch, start):
    monkeypatch.setenv("AUTOGRADER_WARM", "auto" if start == "warm" else "off")

    # (cold, today: ['/dev/null', 'anon_inode', 'anon_inode', 'pipe', 'pipe', 'socket'])
    assert printed(run_cells(TAKE_THE_SERVERS_SOCKET)).strip() == "[]"


@pytest.fixture
def temporary_folder_outside_tmp(monkeypatch):
    """The worker's temporary folder (``TMPDIR``) on another disk than /tmp, as a host whose /tmp
    is small would set it: the warm sandbox's folder of scratch directories follows it."""
    if not os.path.isdir("/var/tmp"):
        pytest.skip("no /var/tmp here")
    folder = Path(tempfile.mkdtemp(prefix="warm-attack-", dir="/var/tmp"))
    folder.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    monkeypatch.undo()
    shutil.rmtree(folder, ignore_errors=True)


def test_a_warm_run_with_the_temporary_folder_outside_tmp_sees_only_its_own_folder(
    temporary_folder_outside_tmp,
):
    # Its scratch directory's parent (``grade-*``, 0700, the worker's) is not under the run's own
    # /tmp there: the run covers the worker's folder of scratch directories with a tmpfs of its
    # own and makes the way down to its folder anew (every other run's stays out of sight).
    look = "import json, os\nprint(json.dumps([os.getcwd(), sorted(os.listdir('../..'))]))"

    cwd, beside = facts(run_cells(look))

    assert cwd.startswith(str(temporary_folder_outside_tmp)) and beside == [Path(cwd).parent.name]


def test_a_tester_cannot_reach_the_fork_server_or_the_runner_either():
    from autograder import harness
    from autograder.grader import grade_python

    # pyrunner's testers are forks of the fork server too; the visible test prints what it found.
    code = (
        "import ctypes, errno, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = ctypes.c_long\n"
        "def relu(x):\n"
        "    server = os.getppid()\n"
        "    runner = int(open(f'/proc/{server}/stat').read().split(')')[1].split()[1])\n"
        "    for pid in (server, runner):\n"
        "        got = libc.syscall(438, os.pidfd_open(pid), 3, 0)\n"
        "        print('getfd', got, errno.errorcode[ctypes.get_errno()] if got < 0 else '')\n"
        "        print('ptrace', libc.ptrace(16, pid, 0, 0), errno.errorcode[ctypes.get_errno()])\n"
        "    caps = [l for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm'))]\n"
        "    print(*sorted(l.split()[1] for l in caps))\n"
        "    return max(0.0, x)\n"
    )

    result = grade_python(
        spec=harness.parse(SPEC),
        instructor_files={"autograder.toml": SPEC, "test_relu.py": HARNESS},
        submitted={"relu.py": code.encode()},
        data_files={},
        limits=LIMITS,
        test_timeout=60,
    )

    visible = next(test for test in result.tests if test.name == "visible")
    assert visible.output.strip().split("\n") == [
        "getfd -1 EPERM",
        "ptrace -1 EPERM",
        "getfd -1 EPERM",
        "ptrace -1 EPERM",
        "0000000000000000 0000000000000000",
    ]
