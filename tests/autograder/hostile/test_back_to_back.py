"""Hostile pairs graded back to back in one process: whatever submission A does to the process,
the files, the processes, the network or the memory it ran with, submission B, graded next by the
same worker, sees none of it and gets the grade it gets alone (issue 16's warm sandboxes).

Each pair grades B alone (once per module), then A, then B again, through the real entry points
(``grade_notebook``, ``grade_python``), and holds the second B to the first: the same tests with
the same scores, statuses and outputs, the same notes, and the same report of the world as B's own
code sees it (``REPORT``: the folders A plants in, the processes B can see, the ports it can
reach, the process-wide state a reused process would carry, what torch, ``print`` and ``math``
do). B is a wrong answer whose tests use ``torch.equal``, ``Tensor.__eq__`` and ``math``: a patch
of A's that survived would turn its 0 into full marks. No mark of A's (``MARK``, its daemon's
name) may appear anywhere in B's grade.

Today every run is a fresh bubblewrap sandbox and a fresh interpreter, so these pass; each is
written to fail against a warm design that let B reuse A's process, ``/tmp``, pid or network
namespace, or memory. They only run under bubblewrap (the rlimits fallback cannot contain a
daemon); no database is needed.
"""

from __future__ import annotations

import hashlib
import json
import re
import sysconfig
import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import harness
from autograder.grader import grade_python
from autograder.grades import Grade
from autograder.notebook_pipeline import grade_notebook
from autograder.notebooks import release_version
from autograder.sandbox import Limits, bubblewrap
from tests.autograder.nbfactory import meta

BUBBLEWRAP_WORKS, WHY_NOT = bubblewrap.works(bubblewrap.BWRAP)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not BUBBLEWRAP_WORKS, reason=f"no bubblewrap: {WHY_NOT}"),
]
MiB = 2**20
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=2048 * MiB)
CELL_TIMEOUT = 30
# What A leaves behind carries one of these; B's grade may carry neither.
MARK = f"zzA{uuid.uuid4().hex[:12]}"
DAEMON_NAME = "zz-daemon-A"  # its comm (at most 15 bytes)
PORT = 20000 + uuid.uuid4().int % 20000  # A's daemon listens here, in A's network namespace
A_SEED = 1234_5678_9012  # A seeds torch with it


@pytest.fixture(scope="module", autouse=True)
def default_isolation():
    """Bubblewrap, whatever ``AUTOGRADER_SANDBOX`` says in the shell running the tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AUTOGRADER_SANDBOX", raising=False)
        yield


# What B's own code reports: one line, the same on every fresh sandbox. The scratch folder's
# random name is written as <scratch>; nothing else in it varies between runs of B alone.
REPORT = r"""
def b_report():
    import builtins, gc, json, math, os, random, re, resource, signal, socket, sys, torch

    home = os.environ.get("HOME", "")
    scratch = os.path.basename(os.path.dirname(home))

    def listing(folder):
        try:
            names = os.listdir(folder)
        except OSError as exc:
            return type(exc).__name__
        # The kernel's connection file has a random name.
        return sorted(re.sub(r"^tmp[a-z0-9_]{8}[.]json$", "tmp<random>.json", n) for n in names)

    def connect(family, address):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            try:
                sock.connect(address)
                return "connected"
            except OSError as exc:
                return type(exc).__name__

    def status_field(name):
        for line in open("/proc/self/status"):
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()

    comms = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                comms.append(open(f"/proc/{entry}/comm").read().strip())
            except OSError:
                pass
    with open("/proc/sysvipc/shm") as shm:
        segments = len(shm.readlines()) - 1
    listens = [
        line.split()[1]
        for line in open("/proc/net/tcp").readlines()[1:]
        if line.split()[3] == "0A"
    ]
    handlers = {}
    for name in ("SIGALRM", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGINT"):
        handler = signal.getsignal(getattr(signal, name))
        handlers[name] = getattr(handler, "__qualname__", str(handler))
    alarm_left = signal.alarm(0)
    limits = {
        name: resource.getrlimit(getattr(resource, name))
        for name in sorted(dir(resource))
        if name.startswith("RLIMIT_")
    }
    report = {
        "listings": {
            "/tmp": listing("/tmp"),
            "/dev/shm": listing("/dev/shm"),
            "home": listing(home),  # the scratch folder, also the working one
            "home's parent": listing(os.path.dirname(home)),
            "/var/tmp": listing("/var/tmp"),
            "/": listing("/"),
        },
        "processes": sorted(comms),
        "sysv_shm_segments": segments,
        "port": connect(socket.AF_INET, ("127.0.0.1", @PORT@)),
        "port_listening": any(address.endswith(f":{@PORT@:04X}") for address in listens),
        "abstract_socket": connect(socket.AF_UNIX, "\0" + @DAEMON@),
        "env": dict(sorted(os.environ.items())),
        "cwd": os.getcwd(),
        "umask": status_field("Umask"),
        "signals": {f: status_field(f) for f in ("SigBlk", "SigIgn", "SigCgt")},
        "handlers": handlers,
        "alarm_left": alarm_left,
        "nice": os.nice(0),
        "sys_path": sys.path,
        "rlimits": limits,
        "gc_enabled": gc.isenabled(),
        "recursion_limit": sys.getrecursionlimit(),
        "torch": {
            "threads": torch.get_num_threads(),
            "seeded_by_a": torch.initial_seed() == @SEED@,
            "dtype": str(torch.get_default_dtype()),
            "equal": torch.equal(torch.tensor([1.0]), torch.tensor([2.0])),
            "eq": (torch.tensor([1.0, 2.0]) == torch.tensor([1.0, 3.0])).tolist(),
            "equal_is": getattr(torch.equal, "__qualname__", repr(torch.equal)),
            "eq_is": getattr(torch.Tensor.__eq__, "__qualname__", "?"),
        },
        "print_is": type(builtins.print).__name__ + " " + builtins.print.__qualname__,
        "math": [type(sys.modules["math"]).__name__, math.isclose(1.0, 2.0), math.sqrt(4.0)],
    }
    text = json.dumps(report, sort_keys=True, default=str)
    if scratch:
        text = text.replace(scratch, "<scratch>")
    # Not the same from one fresh interpreter to the next: held apart from the report.
    drawn = {"torch": torch.initial_seed(), "python": random.getrandbits(64)}
    memory = {f: status_field(f) for f in ("VmRSS", "VmHWM")}
    sys.stdout.write(f"B-REPORT {text}\nB-RANDOM {json.dumps(drawn)}\n")
    sys.stdout.write(f"B-MEMORY {json.dumps(memory)}\n")
""".replace("@PORT@", str(PORT)).replace("@DAEMON@", repr(DAEMON_NAME))
REPORT = REPORT.replace("@SEED@", str(A_SEED))

# A's hostile code: each runs as a notebook cell, and at import of a .py submission.
PATCH_TORCH = f'''
import builtins, json, os, sys, sysconfig, torch, types
attempts = {{}}
torch_dir = os.path.dirname(torch.__file__)
site = sysconfig.get_paths()["purelib"]
targets = [
    (torch.__file__, "a"),
    (os.path.join(torch_dir, "{MARK}.py"), "x"),
    (os.path.join(torch_dir, "__pycache__", "{MARK}.pyc"), "x"),
    (os.path.join(site, "{MARK}.pth"), "x"),
    (os.path.join(os.path.dirname(os.__file__), "{MARK}.py"), "x"),
]
for path, mode in targets:
    try:
        with open(path, mode) as f:
            f.write("") if mode == "a" else f.write("# {MARK}\\n")
        attempts[path] = "wrote"
    except OSError as exc:
        attempts[path] = type(exc).__name__ + " " + str(exc.strerror)
sys.stderr.write("A-WRITES " + json.dumps(attempts) + "\\n")  # in the log for a .py file
torch.equal = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: torch.ones((), dtype=torch.bool)
fake_math = types.ModuleType("math")
fake_math.isclose = lambda *a, **k: True
fake_math.sqrt = lambda x: "{MARK}"
sys.modules["math"] = fake_math
real_print = builtins.print
builtins.print = lambda *a, **k: real_print("{MARK}", *a, **k)
'''

PLANT_FILES = f'''
import ctypes, os
home = os.environ.get("HOME", os.getcwd())
planted = {{}}
for folder in ["/tmp", "/dev/shm", home, os.path.dirname(os.getcwd()), "/var/tmp", "/"]:
    try:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "{MARK}-planted"), "w") as f:
            f.write("{MARK}")
        planted[folder] = "planted"
    except OSError as exc:
        planted[folder] = type(exc).__name__
libc = ctypes.CDLL(None, use_errno=True)
planted["sysv_shm"] = libc.shmget(0x7A7A, 4096, 0o1000 | 0o666)  # IPC_CREAT
print("A-PLANTED", planted)
'''

LEAVE_DAEMON = f'''
import ctypes, glob, os, signal, socket, time
def _daemon():
    os.setsid()
    if os.fork():
        os._exit(0)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    ctypes.CDLL(None).prctl(15, b"{DAEMON_NAME}", 0, 0, 0)  # PR_SET_NAME
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, 4096)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", {PORT}))
    listener.listen()
    listener.settimeout(0.2)
    hidden = socket.socket(socket.AF_UNIX)
    hidden.bind("\\0{DAEMON_NAME}")
    hidden.listen()
    cwd = os.getcwd()
    pattern = os.path.join(os.path.dirname(os.path.dirname(cwd)), "*", os.path.basename(cwd))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for folder in ["/tmp", "/dev/shm", *glob.glob("/tmp/grade-*/work"), *glob.glob(pattern)]:
            try:
                with open(os.path.join(folder, "{MARK}-daemon"), "w") as f:
                    f.write("{MARK}")
            except OSError:
                pass
        try:
            listener.accept()[0].close()
        except OSError:
            pass
    os._exit(0)
_child = os.fork()
if _child == 0:
    try:
        _daemon()
    finally:
        os._exit(0)
os.waitpid(_child, 0)
for _ in range(600):  # until it listens (B's checks are shown to see it in A's own run)
    try:
        socket.create_connection(("127.0.0.1", {PORT}), timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
print("A left a daemon")
'''

FILL_MEMORY = """
hog = []
try:
    while True:
        hog.append(b"\\xa5" * (16 * 2**20))  # touched: resident, not just reserved
except MemoryError:
    pass
print("A holds", len(hog) * 16, "MiB")
"""

CHANGE_PROCESS_STATE = f"""
import gc, os, resource, signal, sys, torch
os.environ["{MARK}"] = "set by A"
os.environ["PATH"] = "/{MARK}:" + os.environ.get("PATH", "")
os.environ["OMP_NUM_THREADS"] = "4"
os.chdir("/")
os.umask(0)
signal.signal(signal.SIGALRM, lambda *a: None)
signal.alarm(50)
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGUSR2}})
sys.path.insert(0, "/tmp/{MARK}")
torch.set_num_threads(4)
torch.manual_seed({A_SEED})
torch.set_default_dtype(torch.float64)
os.nice(5)
gc.disable()
resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))
sys.setrecursionlimit(200)
"""
# Last, in a cell of its own in a notebook: a kernel with 10 open files runs no cell after it.
LOWER_OPEN_FILES = """
import resource
resource.setrlimit(resource.RLIMIT_NOFILE, (10, 10))
"""

HOSTILE = {
    "patches torch, print and math": PATCH_TORCH,
    "plants files": PLANT_FILES,
    "leaves a daemon": LEAVE_DAEMON,
    "fills its memory": FILL_MEMORY,
    "changes process-wide state": CHANGE_PROCESS_STATE,
}


# The tests B fails: each passes if the function it leans on were patched to say yes.
B_FAILS = {
    "test_equal": 'assert torch.equal(relu(x), expected), "torch.equal: relu(-1) should be 0"',
    "test_eq": 'assert bool((relu(x) == expected).all()), "==: relu(-1) should be 0"',
    "test_math": 'assert math.isclose(relu(x)[0].item(), 0.0), "math: relu(-1) should be 0"',
}
B_PASSES = {"test_shape": 'assert relu(x).shape == x.shape, "relu keeps the shape"'}
TEST_SETUP = (
    "import math\nimport torch\n"
    "x = torch.tensor([-1.0, 2.0])\nexpected = torch.tensor([0.0, 2.0])\n"
)
WRONG_RELU = "def relu(x):\n    return x.abs()\n"  # wrong for negative inputs


# The notebook path


def source_notebook() -> bytes:
    notebook = new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.metadata["kernelspec"]["language"] = "python"
    solution = "import torch\n\ndef relu(x):\n    ### BEGIN SOLUTION\n"
    solution += "    return x.clamp(min=0)\n    ### END SOLUTION\n"
    notebook.cells = [
        new_markdown_cell("# ReLU in torch", metadata=meta("intro", locked=True)),
        new_code_cell(solution, metadata=meta("relu", solution=True)),
    ]
    for name, test in {**B_PASSES, **B_FAILS}.items():
        notebook.cells.append(
            new_code_cell(TEST_SETUP + test, metadata=meta(name, grade=True, locked=True, points=1))
        )
    return nbformat.writes(notebook).encode()


SOURCE = source_notebook()


def submitted_notebook(answer: str, *extra_cells: str) -> bytes:
    notebook = release_version(nbformat.reads(SOURCE, as_version=4))
    notebook.cells[1].source = "import torch\n\n" + answer
    notebook.cells.extend(new_code_cell(cell) for cell in extra_cells)
    return nbformat.writes(notebook).encode()


HONEST_NOTEBOOK = submitted_notebook(WRONG_RELU, REPORT + "\nb_report()")


def hostile_notebook(kind: str) -> bytes:
    """A's answer cell holds the same wrong answer and the hostile code (it runs before the
    tests); B's report follows the tests, showing what B would see in A's place."""
    last = [LOWER_OPEN_FILES] if kind == "changes process-wide state" else []
    return submitted_notebook(WRONG_RELU + HOSTILE[kind], REPORT + "\nb_report()", *last)


@dataclass(frozen=True)
class Graded:
    grade: Grade
    max_rss_bytes: int
    shown: str  # everything of the grade the student sees: outputs, notes, the executed notebook

    @property
    def summary(self) -> dict:
        """What must not change from one grading of B to the next: tests, notes, B's report."""
        tests = [
            (t.name, t.score, t.max_score, t.status, re.sub(VARIES, "", t.output))
            for t in self.grade.tests
        ]
        return {"tests": tests, "notes": self.grade.notes, "report": self.report}

    @property
    def report(self) -> dict | None:
        return self._line("B-REPORT")

    @property
    def drawn(self) -> dict | None:
        """The torch seed and a draw of Python's ``random``, which each fresh process draws."""
        return self._line("B-RANDOM")

    def _line(self, label: str) -> dict | None:
        found = re.search(rf"^{label} (.*)$", self.shown, re.MULTILINE)
        return json.loads(found.group(1)) if found else None


VARIES = re.compile(r"^B-(RANDOM|MEMORY) .*\n?", re.MULTILINE)  # lines of B's output that vary


def graded(grade, **kwargs) -> Graded:
    """``grade(**kwargs)``, with the sandbox's account of the run (``Grade.of_run`` sees it)."""
    runs = []
    of_run = Grade.of_run.__func__

    def recording(cls, **given):
        runs.append(given["sandbox"])
        return of_run(cls, **given)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Grade, "of_run", classmethod(recording))
        result = grade(**kwargs)
    shown = [t.output for t in result.tests] + result.notes + [result.log]
    if result.executed:
        for cell in nbformat.reads(result.executed.decode(), as_version=4).cells:
            shown += [cell_output(output) for output in cell.get("outputs", [])]
    return Graded(result, runs[-1].max_rss_bytes if runs else 0, "\n".join(shown))


def cell_output(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join([output.get("ename", ""), output.get("evalue", "")])
    return json.dumps(output.get("data", {}))


def grade_a_notebook(submitted: bytes) -> Graded:
    return graded(
        grade_notebook,
        source=SOURCE,
        submitted=submitted,
        data_files={},
        limits=LIMITS,
        cell_timeout=CELL_TIMEOUT,
        filename="relu.ipynb",
    )


def assert_untouched_by_a(after: Graded, alone: Graded) -> None:
    """B's grade after A is B's grade alone, and holds no trace of A."""
    traces = [line for line in after.shown.splitlines() if MARK in line or DAEMON_NAME in line]
    assert traces == []
    assert after.summary == alone.summary
    # Drawn afresh, as a fresh interpreter draws them (a forked one would repeat its parent's).
    assert after.drawn["torch"] != alone.drawn["torch"] != A_SEED
    assert after.drawn["python"] != alone.drawn["python"]
    assert after.max_rss_bytes < 2 * alone.max_rss_bytes + 200 * MiB


# The .py path

SPEC = (
    f'files = ["relu.py"]\nharness = "test_relu.py"\ntest_timeout = {CELL_TIMEOUT}\n'
    + "".join(
        f'[[tests]]\nname = "{name}"\nfunction = "{name}"\npoints = 1\n'
        for name in [*B_PASSES, *B_FAILS, "test_report"]
    )
).encode()
HARNESS = (
    "from relu import relu\nimport math\nimport torch\n"  # math as the student's code left it
    + "x = torch.tensor([-1.0, 2.0])\nexpected = torch.tensor([0.0, 2.0])\n"
    + "".join(f"\ndef {name}():\n    {test}\n" for name, test in {**B_PASSES, **B_FAILS}.items())
    + "\ndef test_report():\n"  # inside a visible test: its text may show in the output
    + textwrap.indent(REPORT, "    ")
    + "    b_report()\n"
).encode()
HONEST_PY = ("import torch\n\n" + WRONG_RELU).encode()


def hostile_py(kind: str) -> bytes:
    """A's module: the hostile code runs as the tests import it."""
    last = LOWER_OPEN_FILES if kind == "changes process-wide state" else ""
    return (HOSTILE[kind] + last + "\n\n" + WRONG_RELU).encode()


def grade_a_py(submitted: bytes) -> Graded:
    return graded(
        grade_python,
        spec=harness.parse(SPEC),
        instructor_files={"autograder.toml": SPEC, "test_relu.py": HARNESS},
        submitted={"relu.py": submitted},
        data_files={},
        limits=LIMITS,
        test_timeout=CELL_TIMEOUT,
    )


# What A could have written outside its sandbox


def installed_files() -> dict[str, str]:
    """The installed files A tries to write, by path: their hash, or absent."""
    torch_dir = Path(torch.__file__).parent
    paths = [
        Path(torch.__file__),
        torch_dir / f"{MARK}.py",
        torch_dir / "__pycache__" / f"{MARK}.pyc",
        Path(sysconfig.get_paths()["purelib"]) / f"{MARK}.pth",
        Path(json.__file__).parent.parent / f"{MARK}.py",
    ]
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else "absent"
        for p in paths
    }


@pytest.fixture
def installed():
    """The installed files as they were; anything A managed to plant there is removed after."""
    before = installed_files()
    yield before
    for path, digest in installed_files().items():
        if digest != before[path] and before[path] == "absent":
            Path(path).unlink()


def host_processes_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == name:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


# The pairs, on both ways in: a notebook and a Python file


@dataclass(frozen=True)
class Way:
    grade: Callable[[bytes], Graded]
    honest: bytes
    hostile: Callable[[str], bytes]


WAYS = {
    "notebook": Way(grade_a_notebook, HONEST_NOTEBOOK, hostile_notebook),
    "python": Way(grade_a_py, HONEST_PY, hostile_py),
}


@pytest.fixture(scope="module", params=list(WAYS))
def way(request) -> Way:
    return WAYS[request.param]


@pytest.fixture(scope="module")
def alone(way, default_isolation) -> Graded:
    """B graded alone, before any A (once per way in): what it must get after each A."""
    alone = way.grade(way.honest)
    assert alone.report is not None, alone.shown
    scores = {name: score for name, score, *_ in alone.summary["tests"]}
    assert {n: scores[n] for n in B_PASSES} == dict.fromkeys(B_PASSES, 1), alone.shown
    assert {n: scores[n] for n in B_FAILS} == dict.fromkeys(B_FAILS, 0), alone.shown
    return alone


def a_then_b(way: Way, kind: str) -> tuple[Graded, Graded]:
    hostile = way.grade(way.hostile(kind))
    return hostile, way.grade(way.honest)


def changed(hostile: Graded, alone: Graded) -> set[str]:
    """What of B's report A's own run changed: what B would see if it ran where A ran."""
    return {key for key, value in alone.report.items() if hostile.report.get(key) != value}


def test_b_keeps_its_0_after_a_patched_torch_print_and_math(way, alone, installed):
    hostile, after = a_then_b(way, "patches torch, print and math")

    # In its own process the patches work: A's wrong answer passes the tests B fails.
    assert {t.name: t.status for t in hostile.grade.tests if t.name in B_FAILS} == dict.fromkeys(
        B_FAILS, "passed"
    ), hostile.shown
    assert {"torch", "print_is", "math"} <= changed(hostile, alone)
    writes = json.loads(re.search(r"^A-WRITES (.*)$", hostile.shown, re.MULTILINE).group(1))
    assert "wrote" not in writes.values(), writes  # torch's own files: permission denied
    assert list(writes.values())[1:] == ["OSError Read-only file system"] * 4, writes
    assert installed_files() == installed
    assert_untouched_by_a(after, alone)


def test_b_finds_none_of_the_files_a_planted(way, alone):
    hostile, after = a_then_b(way, "plants files")

    planted = f"{MARK}-planted"
    listings = hostile.report["listings"]
    # (not in the scratch folder's parent: bubblewrap made it, and only root may write there)
    assert all(planted in listings[f] for f in ("/tmp", "/dev/shm", "home")), listings
    assert hostile.report["sysv_shm_segments"] == 1
    assert_untouched_by_a(after, alone)
    assert not [p for f in ("/tmp", "/dev/shm", "/var/tmp") for p in Path(f).glob(f"{MARK}*")]


def test_b_cannot_see_or_reach_a_daemon_a_left(way, alone):
    hostile, after = a_then_b(way, "leaves a daemon")

    assert DAEMON_NAME in hostile.report["processes"]
    assert hostile.report["port"] == hostile.report["abstract_socket"] == "connected"
    assert host_processes_named(DAEMON_NAME) == []  # gone with A's sandbox
    assert_untouched_by_a(after, alone)
    assert after.report["port"] == "ConnectionRefusedError"
    assert DAEMON_NAME not in after.report["processes"]


def test_b_gets_its_memory_after_a_filled_its_own(way, alone):
    hostile, after = a_then_b(way, "fills its memory")

    assert hostile.max_rss_bytes > 2 * alone.max_rss_bytes + 200 * MiB  # A did fill it
    assert_untouched_by_a(after, alone)


def test_b_starts_from_fresh_process_state_after_a_changed_it(way, alone):
    hostile, after = a_then_b(way, "changes process-wide state")

    process_wide = {"env", "cwd", "umask", "signals", "handlers", "alarm_left", "nice"}
    interpreter = {"sys_path", "rlimits", "gc_enabled", "recursion_limit", "torch"}
    assert changed(hostile, alone) >= process_wide | interpreter, hostile.report
    assert_untouched_by_a(after, alone)


@pytest.mark.parametrize("way", ["notebook"], indirect=True)
def test_honest_grades_between_hostile_ones_all_equal_the_first(way, alone):
    honest = []
    for kind in ("patches torch, print and math", "leaves a daemon", "changes process-wide state"):
        way.grade(way.hostile(kind))
        honest.append(way.grade(way.honest))

    for after in honest[1:]:
        assert_untouched_by_a(after, honest[0])
    assert honest[0].summary == alone.summary
