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
import importlib.util
import json
import re
import sysconfig
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import harness
from autograder.grader import grade_python
from autograder.grades import Grade
from autograder.notebook_pipeline import grade_notebook
from autograder.notebooks import release_version
from autograder.sandbox import Limits, bubblewrap
from tests.autograder.hostile.pairs import (
    A_SEED,
    B_FAILS,
    B_PASSES,
    DAEMON_NAME,
    HOSTILE,
    LOWER_OPEN_FILES,
    MARK,
    REPORT,
    SHM_KEY,
    TEST_SETUP,
    WRONG_RELU,
)
from tests.autograder.nbfactory import meta

BUBBLEWRAP_WORKS, WHY_NOT = bubblewrap.works(bubblewrap.BWRAP)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not BUBBLEWRAP_WORKS, reason=f"no bubblewrap: {WHY_NOT}"),
]
MiB = 2**20
# 2 GiB on top of torch: A's filled memory is then well past anything B's run could reach.
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=2048 * MiB)
CELL_TIMEOUT = 30


@pytest.fixture(scope="module", autouse=True)
def default_isolation():
    """Bubblewrap, whatever ``AUTOGRADER_SANDBOX`` says in the shell running the tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AUTOGRADER_SANDBOX", raising=False)
        yield


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
    shown: str  # all the grade's text: outputs, notes, the staff log, the executed notebook

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


VARIES = re.compile(r"^B-RANDOM .*\n?", re.MULTILINE)  # the line of B's output that varies


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
    # B's whole report came back (one write of two lines), or the text that did shows here.
    assert after.drawn is not None, after.shown
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
    torch_init = Path(importlib.util.find_spec("torch").origin)  # not imported: collection is quick
    torch_dir = torch_init.parent
    paths = [
        torch_init,
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
    assert alone.report is not None and alone.drawn is not None, alone.shown
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
    host_segments = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    assert str(SHM_KEY) not in [line.split()[0] for line in host_segments]


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
