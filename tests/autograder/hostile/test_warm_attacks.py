"""Hostile notebooks against the warm sandbox (``autograder.sandbox.warm``, ``zygote.py``): each
test runs a student's cell through the real entry point (``execution.run_notebook``) from this
process's zygote and shows that one attack is contained: what the cell can read of the zygote,
the runner and other runs, which privileges it can get, what outlives its run, the limits, and the
randomness a fork inherits. The findings this attack made (a uid's keyring, shared memory past
the limit, a dumpable fork server, inheritable capabilities, a temporary folder outside /tmp)
are closed; their tests stay (no database)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.execution import Execution, run_notebook
from autograder.sandbox import Limits, bubblewrap, host, warm

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (host.is_root() and bubblewrap.works(bubblewrap.BWRAP)[0]),
        reason="warm sandboxes need a root worker and bubblewrap",
    ),
]
MiB = 2**20
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * MiB)
DAEMON_NAME = "warm-attacker"  # the comm a daemon of the student's gives itself


@pytest.fixture(autouse=True)
def warm_runs(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_WARM", "auto")
    monkeypatch.delenv("AUTOGRADER_SANDBOX", raising=False)
    assert warm.wanted()


def run_cells(*sources: str, limits: Limits = LIMITS, cell_timeout: int = 60) -> Execution:
    """A notebook of these code cells, every one the student's, graded as the pipeline runs it."""
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return run_notebook(
        notebook,
        data_files={},
        limits=limits,
        cell_timeout=cell_timeout,
        student_cells=set(range(len(sources))),
    )


def printed(execution: Execution, cell: int = 0) -> str:
    outputs = execution.executed.cells[cell].outputs
    return "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")


def errors(execution: Execution, cell: int = 0) -> list[str]:
    return [o["ename"] for o in execution.executed.cells[cell].outputs if o.get("ename")]


def facts(execution: Execution, cell: int = 0) -> dict:
    """What a probe cell found: the JSON object on its last printed line."""
    return json.loads(printed(execution, cell).splitlines()[-1])


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


# A daemon the student's cell leaves behind: out of the kernel's session and process group, named
# so that it can be found, holding every kind of state a later run might meet: files in /tmp and
# /dev/shm, a SysV shared memory segment and message queue, an abstract unix socket.
DAEMON = f"""
import ctypes, os, socket, time
libc = ctypes.CDLL(None, use_errno=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        libc.prctl(15, b"{DAEMON_NAME}", 0, 0, 0)  # PR_SET_NAME
        open("/tmp/left-behind", "w").write("x")
        open("/dev/shm/left-behind", "w").write("x")
        shm = libc.shmget(0x5741524D, 4096, 0o1666)
        queue = libc.msgget(0x5741524D, 0o1666)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(b"\\0warm-attack")
        listener.listen()
        open("daemon-started", "w").write(f"{{shm}} {{queue}}")
        while True:
            time.sleep(0.1)
    os._exit(0)
os.wait()
for _ in range(100):
    if os.path.exists("daemon-started"):
        break
    time.sleep(0.1)
print(open("daemon-started").read(), os.getuid())
"""
LOOK_FOR_IT = f"""
import ctypes, json, os, socket
libc = ctypes.CDLL(None, use_errno=True)
found = {{
    "uid": os.getuid(),
    "named": [p for p in os.listdir("/proc") if p.isdigit()
              and open(f"/proc/{{p}}/comm").read().strip() == "{DAEMON_NAME}"],
    "tmp": os.listdir("/tmp"), "shm files": os.listdir("/dev/shm"),
    "shm": libc.shmget(0x5741524D, 0, 0), "queue": libc.msgget(0x5741524D, 0),
    "sysv": open("/proc/sysvipc/shm").read().splitlines()[1:]
    + open("/proc/sysvipc/msg").read().splitlines()[1:],
}}
try:
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(b"\\0warm-attack")
    found["socket"] = "connected"
except OSError as exc:
    found["socket"] = exc.strerror
print(json.dumps(found))
"""


def host_processes_named(name: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                found.append(int(pid))
        except OSError:
            pass
    return found


def test_a_daemon_dies_with_its_run_and_the_next_run_meets_none_of_its_state():
    first = run_cells(DAEMON)
    shm, queue, uid = map(int, printed(first).split())
    assert shm >= 0 and queue >= 0  # it did create them, in its own IPC namespace
    deadline = time.monotonic() + 30
    while host_processes_named(DAEMON_NAME) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert host_processes_named(DAEMON_NAME) == []

    found = facts(run_cells(LOOK_FOR_IT))

    assert found["uid"] == uid  # the same uid again: only namespaces keep the runs apart
    assert found["named"] == [] and found["socket"] == "Connection refused"
    assert found["tmp"] == [Path(found["tmp"][0]).name] and "left-behind" not in found["tmp"]
    assert found["shm files"] == [] and found["sysv"] == []
    assert found["shm"] == found["queue"] == -1


# The kernel's keyrings are not namespaced: a uid's user keyring outlives all its processes and
# would be found again by the next process of that uid, which is the next run on this worker (one
# sandbox at a time takes the same uid slot), warm or cold: the seccomp filter refuses them.
PLANT_A_KEY = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
print(libc.syscall(248, b"user", b"left-behind", b"from an earlier run", 19, ctypes.c_long(-4)))
"""
FIND_THE_KEY = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
key = libc.syscall(250, 10, ctypes.c_long(-4), b"user", b"left-behind", 0)  # KEYCTL_SEARCH
content = ctypes.create_string_buffer(64)
size = libc.syscall(250, 11, ctypes.c_long(key), content, 64) if key > 0 else -1  # KEYCTL_READ
if key > 0:
    libc.syscall(250, 21, ctypes.c_long(key))  # KEYCTL_INVALIDATE: none left for later tests
print(content.raw[: max(size, 0)].decode() or "nothing")
"""


@pytest.mark.parametrize("start", ["warm", "cold"])
def test_a_key_left_in_the_uids_keyring_is_not_found_by_the_next_run(monkeypatch, start):
    monkeypatch.setenv("AUTOGRADER_WARM", "auto" if start == "warm" else "off")
    planted = run_cells(PLANT_A_KEY)
    assert int(printed(planted)) == -1  # add_key refused

    assert printed(run_cells(FIND_THE_KEY)).strip() == "nothing"


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


RANDOM = """
import json, os, random, secrets, uuid
import numpy, torch
print(json.dumps([random.random(), float(numpy.random.rand()), float(torch.rand(1)),
                  float(numpy.random.default_rng().random()), secrets.token_hex(8),
                  str(uuid.uuid4()), torch.initial_seed()]))
"""


def test_two_runs_draw_different_random_numbers():
    first, second = (facts(run_cells(RANDOM)) for _ in range(2))

    assert all(a != b for a, b in zip(first, second, strict=True)), (first, second)


FORK_BOMB = """
import os, time
said = False
for _ in range(2000):
    try:
        os.fork()
    except OSError as exc:
        if not said:
            print("fork refused:", exc, flush=True)
            said = True
        time.sleep(0.01)
"""


def test_a_fork_bomb_is_held_to_the_process_limit():
    limits = Limits(wall_seconds=20, cpu_seconds=60, memory_bytes=1536 * MiB, processes=16)

    execution = run_cells(FORK_BOMB, "print('next cell')", limits=limits, cell_timeout=5)

    # As cold: the bomb's cell is stopped at its timeout, the next cell runs, the run ends itself.
    assert "fork refused: [Errno 11] Resource temporarily unavailable" in printed(execution)
    assert execution.status["timeouts"] == [0] and printed(execution, 1) == "next cell\n"
    assert execution.sandbox.stopped_because == "exited"


def test_a_huge_allocation_is_refused_at_the_memory_limit():
    limits = Limits(wall_seconds=60, cpu_seconds=60, memory_bytes=1536 * MiB)

    execution = run_cells("buffer = bytearray(50 * 2**30)", "print('next cell')", limits=limits)

    assert errors(execution) == ["MemoryError"]
    assert execution.sandbox.max_rss_bytes < limits.memory_bytes + 1024 * MiB
    assert printed(execution, 1) == "next cell\n"


def test_filling_the_disk_stops_the_run():
    limits = Limits(wall_seconds=60, cpu_seconds=60, memory_bytes=1536 * MiB, disk_bytes=32 * MiB)
    fill = (
        "import os\nchunk = os.urandom(2**20)\nfor i in range(1000):\n"
        "    open(f'part-{i}', 'wb').write(chunk)\n"
    )

    assert run_cells(fill, limits=limits).sandbox.stopped_because == "disk_limit"


@pytest.mark.parametrize("where", ["/tmp", "/dev/shm"])
def test_its_own_tmp_and_shm_are_capped(where):
    limits = Limits(wall_seconds=60, cpu_seconds=60, memory_bytes=1536 * MiB)
    fill = (
        "import os\nchunk = os.urandom(2**20)\nwritten = 0\ntry:\n"
        f"    for i in range(4096):\n        open(f'{where}/part-{{i}}', 'wb').write(chunk)\n"
        "        written += 1\nexcept OSError as exc:\n    print(written, exc.errno)\n"
    )

    written, error = map(int, printed(run_cells(fill, limits=limits)).split())
    assert written * MiB <= limits.file_size_bytes and error == 28  # ENOSPC


def test_a_cpu_burner_is_stopped_at_its_cpu_limit():
    limits = Limits(wall_seconds=60, cpu_seconds=3, memory_bytes=1536 * MiB)

    execution = run_cells("while True:\n    pass", "print('next cell')", limits=limits)

    # RLIMIT_CPU kills the kernel (SIGXCPU) and the runner says so, as in a cold sandbox: the
    # run itself exits, the cells after it are not reached.
    assert execution.status["state"] == "kernel_died"
    assert execution.unreached == {1} and execution.sandbox.stopped_because == "exited"
    # (the kernel counts CPU by ticks for the limit, and reports it more finely: 2.9 s was seen)
    assert 0.9 * limits.cpu_seconds <= execution.sandbox.cpu_seconds < limits.cpu_seconds + 5


def test_killing_everything_it_can_reach_ends_only_its_own_run():
    execution = run_cells("import os, signal\nos.kill(-1, signal.SIGKILL)")
    assert execution.sandbox.stopped_because in ("exited", "signal")

    assert printed(run_cells("print('alive')")) == "alive\n"
    assert warm._state.get("zygote") is not None and warm._state["zygote"].alive()


# What the keyring finding gives a student: hidden tests run in testers whose output never
# reaches the student (pyrunner), and their text is withheld from any output that quotes it; a
# hidden test's constants, put in the keyring by the first submission's code, are printed (hex)
# by a visible test of the second submission.
SPEC = b"""
files = ["relu.py"]
harness = "test_relu.py"

[[tests]]
name = "visible"
function = "test_visible"
points = 1

[[tests]]
name = "hidden"
function = "test_hidden"
points = 1
hidden = true
"""
HARNESS = b"""from relu import relu

def test_visible():
    assert relu(-1.0) == 0.0

def test_hidden():
    assert relu(31.4159) == 31.4159, "the secret expectation"
"""
EXFILTRATE = """import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NAME = b"hidden-{tag}"

def relu(x):
    caller = sys._getframe(1).f_code
    if caller.co_name == "test_hidden":
        data = repr(caller.co_consts).encode().hex().encode()
        libc.syscall(248, b"user", NAME, data, len(data), ctypes.c_long(-4))  # add_key
    else:
        key = libc.syscall(250, 10, ctypes.c_long(-4), b"user", NAME, 0)  # KEYCTL_SEARCH
        found = ctypes.create_string_buffer(4096)
        size = libc.syscall(250, 11, ctypes.c_long(key), found, 4096) if key > 0 else 0
        if key > 0:
            libc.syscall(250, 21, ctypes.c_long(key))  # KEYCTL_INVALIDATE
        print("found:", found.raw[: max(size, 0)].decode())
    return max(0.0, x)
"""


def test_a_hidden_tests_text_does_not_reach_a_later_visible_test():
    from autograder import harness
    from autograder.grader import grade_python

    code = EXFILTRATE.format(tag=uuid.uuid4().hex)

    def submit():
        return grade_python(
            spec=harness.parse(SPEC),
            instructor_files={"autograder.toml": SPEC, "test_relu.py": HARNESS},
            submitted={"relu.py": code.encode()},
            data_files={},
            limits=LIMITS,
            test_timeout=60,
        )

    submit()
    visible = next(test for test in submit().tests if test.name == "visible")

    printed_hex = visible.output.partition("found:")[2].strip()
    assert "31.4159" not in bytes.fromhex(printed_hex).decode(), visible.output


# Memory the kernel keeps in shared memory counts in no rlimit: RLIMIT_AS counts it only while it
# is mapped, RLIMIT_FSIZE caps each file, not how many. Each cell holds 3 GiB past a 1 GiB limit
# until the run ends (its IPC namespace and descriptors go with it); a run that held the host's
# memory this way would have the host's OOM killer pick among the worker and the other runs.
HOLD_SYSV_SHM = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
size, held = 128 * 2**20, 0
for i in range(24):
    segment = libc.shmget(0x10000 + i, ctypes.c_size_t(size), 0o1600)
    address = libc.shmat(segment, None, 0) if segment >= 0 else None
    if address in (None, ctypes.c_void_p(-1).value):
        break
    ctypes.memset(address, 1, size)
    libc.shmdt(ctypes.c_void_p(address))
    held += size
print(held // 2**20)
"""
HOLD_MEMFDS = """
import os
chunk, held, kept = b"x" * 2**20, 0, []
try:
    for i in range(48):
        kept.append(os.memfd_create(f"hold-{i}"))
        for _ in range(64):
            os.write(kept[-1], chunk)
            held += 1
except OSError:
    pass
print(held)
"""


@pytest.mark.parametrize("cell", [HOLD_SYSV_SHM, HOLD_MEMFDS], ids=["sysv-shm", "memfd"])
def test_shared_memory_is_held_to_the_memory_limit(cell):
    limits = Limits(wall_seconds=60, cpu_seconds=60, memory_bytes=1024 * MiB)

    held_mib = int(printed(run_cells(cell, limits=limits)))

    assert held_mib * MiB <= limits.memory_bytes


def test_killing_its_runner_scores_zero_and_is_no_infrastructure_fault():
    from autograder.notebook_pipeline import grade_notebook
    from tests.autograder.nbfactory import source_bytes, student_notebook

    kill = (
        "import os, signal\nserver = os.getppid()\n"
        "runner = int(open(f'/proc/{server}/stat').read().split(')')[1].split()[1])\n"
        "os.kill(runner, signal.SIGKILL)"
    )
    wrong = student_notebook("    return 0", extra_cells=[kill])

    result = grade_notebook(
        source=source_bytes(),
        submitted=wrong,
        data_files={},
        limits=LIMITS,
        cell_timeout=10,
        filename="a1.ipynb",
    )

    assert {t.name: t.score for t in result.tests}["test_relu"] == 0
    assert result.notes == ["The notebook was killed."]


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


# Two runs at once from one zygote (a worker's threads): the second looks for the first, its uid,
# its processes and its socket, then kills every process it may signal; the first goes on.
NEIGHBOUR = f"""
import ctypes, os, socket, time
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(15, b"{DAEMON_NAME}", 0, 0, 0)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(b"\\0warm-neighbour")
listener.listen()
open("neighbour-started", "w").write(str(os.getuid()))
for _ in range(600):
    if os.path.exists("neighbour-may-end"):
        break
    time.sleep(0.1)
print("survived", os.getuid())
"""
INTRUDER = """
import json, os, socket
found = {"uid": os.getuid(), "processes": len([p for p in os.listdir("/proc") if p.isdigit()])}
try:
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(b"\\0warm-neighbour")
    found["socket"] = "connected"
except OSError as exc:
    found["socket"] = exc.strerror
print(json.dumps(found))
"""


def test_a_run_cannot_see_or_kill_a_run_beside_it():
    results = {}
    neighbour = threading.Thread(target=lambda: results.update(first=run_cells(NEIGHBOUR)))
    neighbour.start()
    try:
        root = warm.scratch_parent()
        started = []
        deadline = time.monotonic() + 120
        while not started and time.monotonic() < deadline and neighbour.is_alive():
            started = list(root.glob("grade-*/work/neighbour-started"))
            time.sleep(0.1)
        assert started, "the first run did not start"

        intruder = run_cells(INTRUDER)
        killer = run_cells("import os, signal\nos.kill(-1, signal.SIGKILL)")  # (its own runner too)
    finally:
        for marker in root.glob("grade-*/work"):
            (marker / "neighbour-may-end").touch()
        neighbour.join()

    found = facts(intruder)
    assert found["socket"] == "Connection refused" and found["processes"] <= 5
    assert killer.executed is None  # it killed its own run, and only that
    survived, first_uid = printed(results["first"]).split()
    assert survived == "survived" and int(first_uid) != found["uid"]


def test_killing_the_fork_server_scores_zero_and_is_no_infrastructure_fault():
    from autograder import harness
    from autograder.grader import grade_python

    # Right answers, but the first call kills the process the testers are forked from (its
    # parent, same uid): the hidden tester cannot start.
    code = "import os, signal\ndef relu(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n"
    code += "    return max(0.0, x)\n"

    result = grade_python(
        spec=harness.parse(SPEC),
        instructor_files={"autograder.toml": SPEC, "test_relu.py": HARNESS},
        submitted={"relu.py": code.encode()},
        data_files={},
        limits=LIMITS,
        test_timeout=60,
    )

    assert {t.name: t.score for t in result.tests} == {"visible": 0, "hidden": 0}
    assert result.notes == ["The tests could not be run."]


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
