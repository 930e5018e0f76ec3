"""The limits of a warm run, as a cold one has them: processes, memory (shared memory too),
disk, its own /tmp and /dev/shm, CPU; and a run that kills its own runner or fork server scores
zero, never an infrastructure fault. The finding closed here (shared memory past the limit)
keeps its test (no database)."""

from __future__ import annotations

import pytest

from autograder.sandbox import Limits
from tests.autograder.hostile.warm_cells import (
    HARNESS,
    LIMITS,
    SPEC,
    WARM_ATTACK,
    MiB,
    errors,
    printed,
    run_cells,
    warm_runs,  # noqa: F401  (the autouse fixture)
)

pytestmark = WARM_ATTACK


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


OPEN_PTYS = """
import os, pty
opened = []
try:
    for _ in range(50):
        opened.extend(pty.openpty())
except OSError:
    pass
print(len(opened) // 2, open("/proc/sys/kernel/pty/nr").read().strip())
"""


def test_a_run_holds_only_a_few_pseudo_terminals_of_its_own():
    # Not the host's pool (bubblewrap's /dev/pts has no cap; within the limits a run could take
    # every pty of the host): pid 1 mounts a devpts instance of its own, of 8.
    held, counted = printed(run_cells(OPEN_PTYS)).split()

    assert int(held) == 8 and int(counted) == 8


def test_a_cpu_burner_is_stopped_at_its_cpu_limit():
    limits = Limits(wall_seconds=60, cpu_seconds=3, memory_bytes=1536 * MiB)

    execution = run_cells("while True:\n    pass", "print('next cell')", limits=limits)

    # RLIMIT_CPU kills the kernel (SIGXCPU) and the runner says so, as in a cold sandbox: the
    # run itself exits, the cells after it are not reached.
    assert execution.status["state"] == "kernel_died"
    assert execution.unreached == {1} and execution.sandbox.stopped_because == "exited"
    # (the kernel counts CPU by ticks for the limit, and reports it more finely: 2.9 s was seen)
    assert 0.9 * limits.cpu_seconds <= execution.sandbox.cpu_seconds < limits.cpu_seconds + 5


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
