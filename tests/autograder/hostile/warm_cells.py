"""What the warm-sandbox attacks share (``test_warm_reach``, ``test_warm_runs_apart``,
``test_warm_limits``): a student's cells run through the real entry point
(``execution.run_notebook``) from this process's zygote, and what they printed.

Every test module of the attacks sets ``pytestmark = WARM_ATTACK`` and imports ``warm_runs``
(autouse) so that its runs start warm; nothing here is collected as a test by itself.
"""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.execution import Execution, run_notebook
from autograder.sandbox import Limits, bubblewrap, host, warm

WARM_ATTACK = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (host.is_root() and bubblewrap.works(bubblewrap.BWRAP)[0]),
        reason="warm sandboxes need a root worker and bubblewrap",
    ),
]
MiB = 2**20
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * MiB)


@pytest.fixture(autouse=True)
def warm_runs(monkeypatch):
    """Every run of a test module that imports this starts warm, whatever the environment says."""
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


# A Python assignment with one visible test and one hidden one, for the attacks made from the
# code that pyrunner's testers import.
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
