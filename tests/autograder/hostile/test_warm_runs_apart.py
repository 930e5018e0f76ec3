"""What passes between warm runs, one after another or side by side: a daemon, its files, IPC
and socket, a key in the uid's keyring (also a hidden test's text carried that way to a later
visible test), the random state a fork inherits from the zygote, a run beside it, and a kill of
everything it can signal. The findings closed here (a uid's keyring) keep their tests (no
database)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import pytest

from autograder.sandbox import warm
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
DAEMON_NAME = "warm-attacker"  # the comm a daemon of the student's gives itself


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


def test_killing_everything_it_can_reach_ends_only_its_own_run():
    execution = run_cells("import os, signal\nos.kill(-1, signal.SIGKILL)")
    assert execution.sandbox.stopped_because in ("exited", "signal")

    assert printed(run_cells("print('alive')")) == "alive\n"
    assert warm._state.get("zygote") is not None and warm._state["zygote"].alive()


# What the keyring finding gives a student: hidden tests run in testers whose output never
# reaches the student (pyrunner), and their text is withheld from any output that quotes it; a
# hidden test's constants, put in the keyring by the first submission's code, are printed (hex)
# by a visible test of the second submission.
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
