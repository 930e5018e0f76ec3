"""What grading gives back, as plain data: a ``Grade`` of ``TestResult``s (the harness's tests,
a notebook's grade cells, the reference checks: ``autograder.checks.scoring``), how a runner's
report of one of them is read (``reported``), and the forms a grade is stored and exported in
(the JSON of a grading run, Gradescope's ``results.json``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal

from autograder.sandbox import SandboxResult

HIDDEN_OUTPUT = "A hidden test: its output is not shown."


@dataclass(frozen=True)
class TestResult:
    name: str
    score: Decimal | None  # None: waits for a hand grade
    max_score: Decimal
    status: str  # passed, failed, partial, not_run, unanswered, manual
    output: str


def reported(result) -> tuple[str, str]:
    """The status (passed, failed or not_run; anything else is failed) and output a runner
    reported for one test or check."""
    status = result.get("status") if isinstance(result, dict) else None
    status = status if status in ("passed", "failed", "not_run") else "failed"
    return status, str(result.get("output", "")) if isinstance(result, dict) else ""


@dataclass
class Grade:
    tests: list[TestResult]
    notes: list[str] = field(default_factory=list)  # for the student
    log: str = ""  # for staff
    executed: bytes = b""
    isolation: str = ""
    duration_seconds: float = 0.0
    device: str = "cpu"  # where reference checks ran
    # An assignment of several notebooks (``autograder.notebook_set``): each executed notebook by
    # file name; ``executed`` is then empty.
    executed_notebooks: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def of_run(
        cls,
        *,
        tests: list[TestResult],
        notes: list[str],
        log: str,
        sandbox: SandboxResult,
        started: float,
        executed: bytes = b"",
        device: str = "cpu",
    ) -> Grade:
        """The grade of a run in the sandbox that began at ``started`` (``time.monotonic``)."""
        return cls(
            tests=tests,
            notes=notes,
            log=log,
            executed=executed,
            isolation=sandbox.isolation,
            duration_seconds=time.monotonic() - started,
            device=device,
        )

    @property
    def score(self) -> Decimal:
        return sum((t.score for t in self.tests if t.score is not None), Decimal(0))

    @property
    def max_score(self) -> Decimal:
        return sum((t.max_score for t in self.tests), Decimal(0))


def test_dicts(grade: Grade) -> list[dict]:
    """The tests as stored on a grading run (JSON: numbers as strings)."""
    return [
        {
            "name": t.name,
            "score": None if t.score is None else str(t.score),
            "max_score": str(t.max_score),
            "status": t.status,
            "output": t.output,
        }
        for t in grade.tests
    ]


def _points(test: dict, manual: dict[str, Decimal]) -> Decimal | None:
    points = manual.get(test["name"]) if test["status"] == "manual" else test["score"]
    return None if points is None else Decimal(points)


def total_points(tests: list[dict], manual: dict[str, Decimal]) -> Decimal:
    """Autograded points plus the hand grades given so far."""
    return sum((p for t in tests if (p := _points(t, manual)) is not None), Decimal(0))


def gradescope_results(
    tests: list[dict], *, manual: dict[str, Decimal], execution_time: float, output: str
) -> dict:
    """Tests as Gradescope's ``results.json`` (score, execution_time, output, tests)."""
    rows = []
    for test in tests:
        points, maximum = _points(test, manual), Decimal(test["max_score"])
        rows.append(
            {
                "name": test["name"],
                "score": None if points is None else float(points),
                "max_score": float(maximum),
                "status": "passed" if points == maximum else "failed",
                "output": test["output"] or ("Waiting for a hand grade." if points is None else ""),
                "visibility": "visible",
            }
        )
    return {
        "score": float(total_points(tests, manual)),
        "execution_time": round(execution_time, 3),
        "output": output,
        "tests": rows,
    }


def results_json(grade: Grade) -> dict:
    return gradescope_results(
        test_dicts(grade),
        manual={},
        execution_time=grade.duration_seconds,
        output="\n".join(grade.notes),
    )
