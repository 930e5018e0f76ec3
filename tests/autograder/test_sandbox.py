"""The sandbox contains hostile programs, says clearly what happened to each, and runs the next
program normally afterwards.

The hostile programs live in ``hostile/`` and are copied into the scratch directory, as a
submission would be. They only ever run under bubblewrap: in the rlimits fallback a worker running
as root could not contain ``kill(-1, SIGKILL)`` or a fork bomb, so the fallback is tested with
well-behaved programs only. No database is needed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from autograder.sandbox import (
    Limits,
    SandboxUnavailable,
    bubblewrap,
    host,
    isolation_level,
    run_sandboxed,
    runner,
)
from courseapp.config import queued_sqlite3

REPO = Path(__file__).resolve().parents[2]
HOSTILE = Path(__file__).parent / "hostile"
MiB = 2**20
SMALL = Limits(
    wall_seconds=10,
    cpu_seconds=10,
    memory_bytes=1024 * MiB,
    processes=32,
    open_files=64,
    file_size_bytes=8 * MiB,
    output_bytes=1 * MiB,
)
BUBBLEWRAP_WORKS, WHY_NOT = bubblewrap.works(bubblewrap.BWRAP)
needs_bubblewrap = pytest.mark.skipif(not BUBBLEWRAP_WORKS, reason=f"no bubblewrap: {WHY_NOT}")


@pytest.fixture(autouse=True)
def default_isolation(monkeypatch):
    monkeypatch.delenv("AUTOGRADER_SANDBOX", raising=False)


@pytest.fixture(autouse=True)
def next_run_works(tmp_path_factory):
    """After every test, hostile or not, the sandbox still runs an ordinary program."""
    yield
    workdir = tmp_path_factory.mktemp("next")
    result = run_sandboxed([sys.executable, "-c", "print(6 * 7)"], workdir=workdir, limits=SMALL)
    assert (result.stopped_because, result.exit_code, result.stdout) == ("exited", 0, "42\n")


@pytest.fixture
def workdir(tmp_path):
    path = tmp_path / "submission"
    path.mkdir()
    return path


def run_hostile(workdir: Path, script: str, *args: str, limits: Limits = SMALL, **kwargs):
    if isolation_level() != "bubblewrap":
        pytest.skip("hostile programs only run under bubblewrap")
    shutil.copy(HOSTILE / script, workdir / script)
    started = time.monotonic()
    argv = [sys.executable, str(workdir / script), *args]
    result = run_sandboxed(argv, workdir=workdir, limits=limits, **kwargs)
    return result, time.monotonic() - started


def run_code(workdir: Path, code: str, *, limits: Limits = SMALL, **kwargs):
    return run_sandboxed([sys.executable, "-c", code], workdir=workdir, limits=limits, **kwargs)


def sleep_token() -> str:
    """A `sleep` duration no other process on this machine will have: about SLEEP_SECONDS."""
    return f"{SLEEP_SECONDS}.{uuid.uuid4().int % 10**9:09d}"


def running(needle: bytes) -> list[int]:
    """Pids of live processes whose command line contains ``needle``."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and needle in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def sleeping(token: str) -> list[int]:
    return running(b"sleep\0" + token.encode() + b"\0")


# What a test waits for happens in well under a second on an idle machine; these deadlines are
# for a loaded 2-core one, and only bound how long a failure takes to be reported. Each stays
# below what would make it pass wrongly (a sandbox left running sleeps SLEEP_SECONDS).
SETTLE = 60  # seconds for processes to start or go
SLEEP_SECONDS = 100


def wait_until(condition, seconds: float, *, poll: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return condition()


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


# Isolation


def test_it_uses_bubblewrap_on_this_machine():
    if shutil.which("bwrap") is None:
        pytest.skip("bwrap is not installed")
    assert isolation_level() == "bubblewrap", WHY_NOT


@needs_bubblewrap
def test_it_runs_as_an_unprivileged_uid_without_capabilities(workdir):
    result = run_code(workdir, "print(open('/proc/self/status').read())")
    status = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    uid = int(status["Uid"].split()[0])
    assert status["Uid"].split() == status["Gid"].split() == [str(uid)] * 4
    assert uid >= host.UID_BASE if host.is_root() else uid == host.NAMESPACE_UID
    assert int(status["CapEff"], 16) == int(status["CapBnd"], 16) == 0
    assert status["NoNewPrivs"].strip() == "1"
    assert result.isolation == "bubblewrap"


@needs_bubblewrap
def test_it_hides_host_files_other_submissions_and_the_instructors_source(workdir, tmp_path):
    other = tmp_path / "other-student" / "submission.ipynb"
    source = tmp_path / "instructor" / "source.ipynb"
    for path, text in [(other, "someone else's answer"), (source, "### BEGIN SOLUTION\n")]:
        path.parent.mkdir()
        path.write_text(text)
    secrets = [REPO / "courseapp" / "config" / "settings.py", Path("/etc/shadow"), other, source]
    database = REPO / "var" / "db.sqlite3"  # with its WAL files, which hold recent commits
    kept = [database, *queued_sqlite3.side_files(database), REPO / "var" / "secret_key"]
    secrets += [p for p in kept if p.exists()]
    assert all(path.exists() for path in secrets)  # on the host, they are there
    hidden_dirs = [REPO / "courseapp", REPO / "var", other.parent, Path("/home")]
    paths = [*map(str, secrets + hidden_dirs), "/root/.bashrc"]

    result, _ = run_hostile(workdir, "read_outside.py", *paths)

    outcome = json.loads(result.stdout)
    assert not {p: o for p, o in outcome.items() if o in ("read", "listed")}, outcome
    listing = run_code(workdir, "import os; print(sorted(os.listdir('..')))")
    assert listing.stdout == "['submission']\n"  # the siblings are not even there


@needs_bubblewrap
def test_it_lets_the_program_read_its_workdir_and_readonly_paths(workdir, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("x,y\n1,2\n")
    (workdir / "solution.py").write_text("ANSWER = 42\n")
    code = (
        f"import solution; print(solution.ANSWER, open({str(data / 'train.csv')!r}).read()[4:])\n"
        f"try:\n    open({str(data / 'new.csv')!r}, 'w')\n"
        "except OSError as e:\n    print(type(e).__name__)"
    )

    result = run_code(workdir, code, readonly_paths=[data])

    assert result.stdout == "42 1,2\n\nOSError\n", result.stderr
    assert not (data / "new.csv").exists()


@needs_bubblewrap
def test_a_replaced_file_shows_only_its_replacement_and_stays_read_only(workdir, tmp_path):
    import sklearn.datasets

    shipped = Path(sklearn.datasets.__file__).parent / "data" / "digits.csv.gz"
    # Read where the sandbox's Python reads it: the installation by its resolved path (the worker
    # may name it through a symlinked virtualenv; the replacement is bound at the resolved path).
    read = os.path.realpath(shipped)
    public = tmp_path / "public.csv.gz"
    public.write_bytes(b"the public part only")
    public.chmod(0o644)
    code = (
        f"print(open({read!r}, 'rb').read())\n"
        f"try:\n    open({read!r}, 'wb')\nexcept OSError as e:\n    print(type(e).__name__)"
    )

    result = run_code(workdir, code, replaced_files={shipped: public})

    assert result.stdout == "b'the public part only'\nOSError\n", result.stderr
    assert shipped.read_bytes()[:2] == b"\x1f\x8b"  # the host's own copy: untouched gzip


@needs_bubblewrap
def test_it_cuts_the_network(workdir):
    result, _ = run_hostile(workdir, "network.py")

    outcome = json.loads(result.stdout)
    assert set(outcome) == {"127.0.0.1:6379", "127.0.0.1:5432", "example.com", "pypi.org"}
    # Where Redis and PostgreSQL run on this machine, the worker itself reaches them.
    reachable_from_the_worker = [port for port in (6379, 5432) if port_open(port)]
    assert "connected" not in outcome.values(), (outcome, reachable_from_the_worker)
    assert "resolved" not in outcome.values(), outcome


@needs_bubblewrap
def test_it_hides_the_worker_environment(workdir, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "not-for-students-1")
    monkeypatch.setenv("DATABASE_URL", "postgres://grader:not-for-students-2@localhost/db")

    result, _ = run_hostile(workdir, "show_env.py", env={"ASSIGNMENT": "elu"})

    env = json.loads(result.stdout)
    assert "not-for-students" not in result.stdout
    assert set(env) <= {
        "PATH",
        "HOME",
        "LANG",
        "PYTHONDONTWRITEBYTECODE",
        "PWD",
        "ASSIGNMENT",
        "USER",
        "LOGNAME",
    }
    assert env["HOME"] == str(workdir) and env["ASSIGNMENT"] == "elu"


@pytest.mark.parametrize("level", ["bubblewrap", "rlimits"])
def test_a_sandboxed_program_can_ask_for_its_user_name(workdir, monkeypatch, level):
    """Its uid has no passwd entry; torch's compile cache asks getpass.getuser() for a folder
    name and, before USER was set, failed every check after the first with a KeyError."""
    if level == "bubblewrap" and not BUBBLEWRAP_WORKS:
        pytest.skip(f"no bubblewrap: {WHY_NOT}")
    monkeypatch.setenv("AUTOGRADER_SANDBOX", level)
    monkeypatch.setenv("USER", "worker-account")

    result = run_code(workdir, "import getpass; print(getpass.getuser())")

    assert (result.stdout, result.exit_code) == ("student\n", 0), result.stderr


@needs_bubblewrap
def test_it_refuses_writes_outside_the_workdir(workdir, tmp_path):
    sibling = tmp_path / "other-student"
    sibling.mkdir()
    (sibling / "submission.ipynb").write_text("{}")
    private_tmp = f"/tmp/sandbox-was-here-{uuid.uuid4().hex}"
    outside = [
        "/usr/sandbox-was-here",
        "/tmp/../etc/sandbox-was-here",
        str(REPO / "sandbox-was-here"),
        str(REPO / ".venv" / "sandbox-was-here"),
        str(sibling / "submission.ipynb"),
        str(tmp_path / "sandbox-was-here"),
        "/root/sandbox-was-here",
        "/sandbox-was-here",
    ]

    result, _ = run_hostile(workdir, "write_outside.py", *outside, private_tmp, "inside.txt")

    outcome = json.loads(result.stdout)
    assert {path: outcome[path] for path in outside if outcome[path] == "wrote"} == {}
    assert outcome[private_tmp] == outcome["inside.txt"] == "wrote"  # its own /tmp, its workdir
    assert (workdir / "inside.txt").exists()
    assert [path for path in [*outside, private_tmp] if os.path.exists(path)] == [
        str(sibling / "submission.ipynb")
    ]
    assert (sibling / "submission.ipynb").read_text() == "{}"


@needs_bubblewrap
def test_it_leaves_files_the_worker_can_remove(workdir):
    code = (
        "import os\nos.makedirs('a/b/c')\nopen('a/b/c/f', 'w').write('x')\n"
        "os.chmod('a/b/c/f', 0); os.chmod('a/b/c', 0); os.chmod('a', 0o500)"
    )

    result = run_code(workdir, code)

    assert result.ok, result.stderr
    if host.is_root():
        assert (workdir / "a").stat().st_uid >= host.UID_BASE
    shutil.rmtree(workdir)
    assert not workdir.exists()


@needs_bubblewrap
def test_it_refuses_a_user_namespace_of_its_own(workdir):
    # In one, the program could mount a tmpfs that no limit bounds and fill the host's memory.
    code = (
        "import ctypes, os, threading\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print(libc.unshare(0x10000000), os.strerror(ctypes.get_errno()))\n"
        "thread = threading.Thread(target=print, args=['threads still work']); thread.start()\n"
        "thread.join(); pid = os.fork()\n"
        "print('forks still work') if pid else os._exit(0)"
    )

    result = run_code(workdir, code)

    assert result.stdout == "-1 Operation not permitted\nthreads still work\nforks still work\n"
    nested = run_sandboxed(["unshare", "-Urm", "true"], workdir=workdir, limits=SMALL)
    assert nested.exit_code == 1 and "Operation not permitted" in nested.stderr


@needs_bubblewrap
def test_it_caps_the_private_tmp(workdir):
    code = (
        "for i in range(3):\n"
        "    try:\n        open(f'/tmp/{i}', 'wb').write(bytes(6 * 2**20))\n"
        "    except OSError as e:\n        print(i, e.strerror)"
    )

    result = run_code(workdir, code)

    assert result.stdout == "1 No space left on device\n2 No space left on device\n"


# Resources


@pytest.mark.slow
@needs_bubblewrap
def test_it_bounds_a_fork_bomb_by_the_process_limit(workdir):
    limits = Limits(wall_seconds=3, processes=16, memory_bytes=512 * MiB, output_bytes=MiB)

    result, took = run_hostile(workdir, "fork_bomb.py", limits=limits)

    assert "fork refused: [Errno 11] Resource temporarily unavailable" in result.stdout
    assert result.stdout.count("fork refused") <= limits.processes
    assert result.stopped_because == "timeout" and took < 30  # not at its CPU limit (60 s)
    assert running(f"{workdir}/fork_bomb.py".encode()) == []


@pytest.mark.slow
@needs_bubblewrap
def test_a_fork_bomb_does_not_starve_a_sandbox_running_beside_it(workdir, tmp_path):
    limits = Limits(wall_seconds=15, processes=16, memory_bytes=512 * MiB)
    bomb = threading.Thread(
        target=run_hostile, args=(workdir, "fork_bomb.py"), kwargs={"limits": limits}
    )
    neighbour = tmp_path / "neighbour"
    neighbour.mkdir()
    code = "import os\nfor _ in range(8):\n    os.fork() or os._exit(0)\nprint('forked 8 times')"

    bomb.start()
    try:
        # (the bomb goes on for its 15 s of wall clock, so the neighbour runs beside it)
        assert wait_until(lambda: len(running(f"{workdir}/fork_bomb.py".encode())) >= 12, 15)
        result = run_code(neighbour, code, limits=limits)
    finally:
        bomb.join()

    assert result.stdout == "forked 8 times\n", result.stderr


@needs_bubblewrap
def test_it_stops_a_50gb_allocation(workdir):
    result, _ = run_hostile(workdir, "allocate_50gb.py")

    assert result.stopped_because == "memory_limit"
    assert result.exit_code == 1 and "MemoryError" in result.stderr
    assert result.max_rss_bytes < SMALL.memory_bytes


@needs_bubblewrap
def test_it_kills_an_infinite_loop_at_the_wall_clock(workdir):
    limits = Limits(wall_seconds=2, cpu_seconds=30)

    result, took = run_hostile(workdir, "infinite_loop.py", limits=limits)

    assert result.stopped_because == "timeout"
    assert result.signal == 9 and result.exit_code is None
    assert 2 <= result.wall_seconds < 30 and took < 30  # at the wall clock, not its CPU limit


@needs_bubblewrap
def test_it_kills_a_program_that_ignores_sigterm(workdir):
    result, took = run_hostile(workdir, "ignore_sigterm.py", limits=Limits(wall_seconds=2))

    assert result.stdout == "ignoring SIGTERM\n"
    assert result.stopped_because == "timeout" and took < 30


@needs_bubblewrap
def test_it_stops_a_cpu_burner_at_its_cpu_limit(workdir):
    limits = Limits(wall_seconds=30, cpu_seconds=1)

    result, took = run_hostile(workdir, "infinite_loop.py", limits=limits)

    assert result.stopped_because == "cpu_limit"
    assert result.cpu_seconds >= 0.9 and took < 30  # before the wall clock


@needs_bubblewrap
@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_it_caps_a_1gb_print(workdir, stream):
    result, _ = run_hostile(workdir, "flood_output.py", stream)

    assert result.stopped_because == "output_limit"
    assert len(getattr(result, stream)) == SMALL.output_bytes
    assert getattr(result, f"{stream}_truncated")


@needs_bubblewrap
def test_it_caps_a_10gb_file(workdir):
    result, _ = run_hostile(workdir, "write_10gb.py")

    assert result.exit_code == 1 and "File too large" in result.stderr
    assert (workdir / "big.bin").stat().st_size <= SMALL.file_size_bytes


@needs_bubblewrap
@pytest.mark.parametrize(
    ("how", "limits"),
    [
        ("--bytes", replace(SMALL, disk_bytes=64 * MiB)),
        ("--files", replace(SMALL, disk_entries=500)),
    ],
)
def test_it_stops_a_program_that_fills_the_disk(workdir, how, limits):
    """Many files, each under the file size limit, in folders: the scratch directory is
    measured as the program runs, and the run stops soon after it passes the limit."""
    result, _ = run_hostile(workdir, "fill_disk.py", how, limits=limits)

    assert result.stopped_because == "disk_limit" and "filled the disk" not in result.stdout
    used = sum(f.stat().st_size for f in workdir.rglob("*") if f.is_file())
    entries = sum(1 for _ in workdir.rglob("*"))
    assert used < 64 * MiB + 512 * MiB and entries < 50_000  # stopped long before the end


@needs_bubblewrap
def test_it_caps_open_files(workdir):
    result, _ = run_hostile(workdir, "open_files.py")

    opened = int(result.stdout.split()[0])
    assert opened < SMALL.open_files and "OSError: Too many open files" in result.stdout


# Processes and signals


@needs_bubblewrap
def test_it_leaves_no_process_behind(workdir):
    token = sleep_token()

    result, _ = run_hostile(workdir, "orphan_sleep.py", token, "--also-new-session")

    assert result.stdout == "left sleep running\n" and result.ok
    assert sleeping(token) == []  # gone by the time the call returns


WORKER = (
    "import sys; from pathlib import Path; from autograder.sandbox import run_sandboxed; "
    "run_sandboxed(['sleep', sys.argv[2]], workdir=Path(sys.argv[1]))"
)
# The same worker, but the child it starts for bubblewrap kills it before exec'ing bubblewrap: a
# worker that dies before bubblewrap has armed its parent-death signal (in its monitor, just
# after clone(); in the sandbox, just before exec). In CI this happened by chance once. The
# child is the command that sets the rlimits and execs bubblewrap (``limits.rlimit_command``),
# with a shell in front that kills the worker first.
WORKER_DYING_AS_BUBBLEWRAP_STARTS = (
    "import sys; from pathlib import Path\n"
    "from autograder.sandbox import run_sandboxed, supervisor\n"
    "command = supervisor.rlimit_command\n"
    "def kill_worker_first(limits, loaded_bytes):\n"
    "    kill = 'kill -KILL $PPID; sleep 0.2; exec \"$@\"'\n"
    "    return ['/bin/sh', '-c', kill, 'sh', *command(limits, loaded_bytes)]\n"
    "supervisor.rlimit_command = kill_worker_first\n"
    "run_sandboxed(['sleep', sys.argv[2]], workdir=Path(sys.argv[1]))\n"
)


def start_worker(code: str, workdir: Path, token: str) -> subprocess.Popen:
    """A worker process that runs ``sleep TOKEN`` in the sandbox."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, str(workdir), token], env=env)


def described(token: str) -> list[str]:
    """What is left of a sandbox: each process's state and command line."""
    left = []
    for pid in running(token.encode()):
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        left.append(f"{pid} {state} {b' '.join(argv).decode(errors='replace')[:160]}")
    return left


def program_running(token: str) -> bool:
    """Whether the sandboxed ``sleep TOKEN`` itself runs (not bubblewrap or the sandbox's pid 1,
    whose command lines carry it too)."""
    needle = b"sleep\0" + token.encode() + b"\0"
    for pid in sleeping(token):
        try:
            if (Path("/proc") / str(pid) / "cmdline").read_bytes().startswith(needle):
                return True
        except OSError:
            continue
    return False


@needs_bubblewrap
def test_it_kills_the_sandbox_when_the_worker_dies(workdir):
    token = sleep_token()
    worker = start_worker(WORKER, workdir, token)
    try:
        assert wait_until(lambda: program_running(token), SETTLE)
        worker.kill()
        worker.wait()
        # bubblewrap, the sandbox's pid 1, the lifeline's watcher and the program: all gone.
        assert wait_until(lambda: not running(token.encode()), SETTLE), running(token.encode())
    finally:
        worker.kill()
        worker.wait()


@needs_bubblewrap
def test_it_kills_the_sandbox_when_the_worker_died_before_bubblewrap_started(workdir):
    token = sleep_token()
    worker = start_worker(WORKER_DYING_AS_BUBBLEWRAP_STARTS, workdir, token)
    try:
        assert worker.wait(SETTLE) == -signal.SIGKILL
        # Nothing watches it from outside: the program must not start, or not for long.
        assert wait_until(lambda: not running(token.encode()), SETTLE), described(token)
    finally:
        worker.kill()
        worker.wait()
        for pid in running(token.encode()):  # do not leave a failure's processes behind
            os.kill(pid, signal.SIGKILL)


@needs_bubblewrap
def test_it_survives_a_kill_of_its_parent(workdir):
    result, _ = run_hostile(workdir, "kill_parent.py")

    # Its parent is the sandbox's own pid 1, not the worker, and pid 1 does not die of it.
    assert result.ok and " parent 1" in result.stdout


@needs_bubblewrap
def test_it_survives_kill_of_every_process_and_of_the_group(workdir):
    bystander = subprocess.Popen(["sleep", sleep_token()])
    try:
        result, _ = run_hostile(workdir, "kill_everyone.py")
        assert bystander.poll() is None  # and so is this test process
    finally:
        bystander.kill()
        bystander.wait()

    assert result.stopped_because == "signal" and result.signal == 9
    assert "still here" not in result.stdout


@needs_bubblewrap
@pytest.mark.parametrize(
    ("code", "exit_code"),
    [("import sys; sys.exit(3)", 3), ("import os; os._exit(0)", 0), ("raise SystemExit('no')", 1)],
)
def test_it_reports_exit_codes(workdir, code, exit_code):
    result = run_code(workdir, code)

    assert (result.stopped_because, result.exit_code, result.signal) == ("exited", exit_code, None)


@needs_bubblewrap
def test_it_reports_a_crash_as_a_signal(workdir):
    result = run_code(workdir, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")

    assert (result.stopped_because, result.signal, result.exit_code) == ("signal", 11, None)


@needs_bubblewrap
def test_it_reports_a_missing_program(workdir):
    result = run_sandboxed(["no-such-program"], workdir=workdir, limits=SMALL)

    assert (result.exit_code, result.stopped_because) == (127, "exited")
    assert "no-such-program" in result.stderr


def test_it_passes_stdin(workdir):
    data = b"line\n" * 200_000  # more than a pipe holds

    result = run_code(workdir, "import sys; print(len(sys.stdin.buffer.read()))", stdin=data)

    assert result.stdout == f"{len(data)}\n"


# Libraries assignments need


def test_it_imports_numpy(workdir):
    result = run_code(workdir, "import numpy; print(numpy.arange(4).sum())", limits=Limits())

    assert (result.stdout, result.stderr, result.exit_code) == ("6\n", "", 0)


@pytest.mark.slow
def test_it_imports_torch_with_the_default_limits(workdir):
    code = "import torch; print(torch.nn.functional.elu(torch.tensor([-1.0, 2.0])).sum().item())"

    result = run_code(workdir, code, limits=Limits())

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # nbgrader scores a cell with stderr output 0
    assert abs(float(result.stdout) - (2 - 0.6321)) < 1e-3
    assert result.cpu_seconds > 0.1 and result.max_rss_bytes > 100 * MiB


@pytest.mark.slow
def test_the_memory_limit_is_what_the_program_gets_on_top_of_torch(workdir):
    """RLIMIT_AS is the limit plus what importing torch maps here (several GiB with a CUDA build,
    where the limit alone would not even let torch load); beyond that budget, allocation fails."""
    from autograder.sandbox import host

    limits = Limits(memory_bytes=512 * MiB)
    fits = run_code(
        workdir, "import torch; x = bytearray(300 * 2**20); print(len(x) >> 20)", limits=limits
    )
    too_much = run_code(workdir, "import torch; x = bytearray(700 * 2**20)", limits=limits)

    assert (fits.exit_code, fits.stdout) == (0, "300\n"), fits.stderr
    assert too_much.stopped_because == "memory_limit" and "MemoryError" in too_much.stderr
    assert host.torch_address_space() > 100 * MiB  # torch is there, so it was measured


# The rlimits fallback


@pytest.fixture
def fallback(monkeypatch, caplog):
    monkeypatch.setenv("AUTOGRADER_SANDBOX", "rlimits")
    runner._warn_weaker_isolation.cache_clear()
    caplog.set_level(logging.WARNING, logger="autograder.sandbox")


def test_the_fallback_says_it_is_weaker(fallback, workdir, caplog):
    code = "import os, json; print(json.dumps([os.getcwd(), dict(os.environ)]))"

    result = run_code(workdir, code)

    cwd, env = json.loads(result.stdout)
    assert result.isolation == "rlimits" and cwd == str(workdir)
    assert set(env) <= {"PATH", "HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "USER", "LOGNAME"}
    assert "SANDBOX ISOLATION IS WEAKER" in caplog.text


def test_the_fallback_is_used_when_bubblewrap_is_missing(monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(bubblewrap, "BWRAP", "/nonexistent/bwrap")
        assert isolation_level() == "rlimits"

        patch.setenv("AUTOGRADER_SANDBOX", "bubblewrap")
        with pytest.raises(SandboxUnavailable, match="not installed"):
            isolation_level()


def test_the_fallback_kills_at_the_wall_clock_with_the_process_group(fallback, workdir):
    token = sleep_token()
    code = f"import subprocess\nsubprocess.Popen(['sleep', '{token}'])\nwhile True: pass"

    result = run_code(workdir, code, limits=Limits(wall_seconds=2))

    assert result.stopped_because == "timeout" and result.wall_seconds < 30
    assert wait_until(lambda: not sleeping(token), SETTLE)


def test_the_fallback_caps_output_and_memory(fallback, workdir):
    flood = run_code(workdir, "while True: print('x' * 1000)")
    memory = run_code(workdir, "bytearray(50 * 2**30)")

    assert flood.stopped_because == "output_limit" and len(flood.stdout) == SMALL.output_bytes
    assert memory.stopped_because == "memory_limit"


def test_the_fallback_reports_a_missing_program(fallback, workdir):
    result = run_sandboxed(["no-such-program"], workdir=workdir, limits=SMALL)

    assert (result.exit_code, result.stopped_because) == (127, "exited")


@pytest.mark.skipif(not host.is_root(), reason="only a root worker can change uid")
def test_the_fallback_drops_to_the_sandbox_uid_when_that_uid_can_reach_everything(fallback):
    with tempfile.TemporaryDirectory(dir="/tmp") as scratch:  # /tmp, unlike tmp_path, is 1777
        result = run_sandboxed(["/bin/sh", "-c", "id -u; touch f"], workdir=Path(scratch))
        owner = (Path(scratch) / "f").stat().st_uid

    assert int(result.stdout) == owner >= host.UID_BASE


def test_it_refuses_a_workdir_that_would_expose_the_interpreter():
    with pytest.raises(ValueError, match="read-write"):  # the virtualenv's folder, wherever it is
        run_sandboxed(["true"], workdir=Path(sys.prefix).resolve().parent)


def test_a_failed_bubblewrap_probe_is_tried_again(monkeypatch):
    """One slow start on a loaded machine must not leave the process grading with the weaker
    fallback for good: only a success is kept."""
    answers = iter([(False, "timed out"), (True, ""), (False, "never asked")])
    calls = []
    monkeypatch.setattr(bubblewrap, "_WORKING", set())
    monkeypatch.setattr(bubblewrap, "_probe", lambda bwrap: calls.append(bwrap) or next(answers))

    assert bubblewrap.works("/x/bwrap") == (False, "timed out")
    assert bubblewrap.works("/x/bwrap") == (True, "")
    assert bubblewrap.works("/x/bwrap") == (True, "")
    assert calls == ["/x/bwrap", "/x/bwrap"]
