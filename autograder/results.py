"""One autograded test's result, as plain data (``TestResult``), and how a runner's report of a
test or check is read (``reported``): shared by the harness's tests, the notebook's grade cells
and the reference checks (``autograder.checks.scoring``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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
    reported for one test."""
    status = result.get("status") if isinstance(result, dict) else None
    status = status if status in ("passed", "failed", "not_run") else "failed"
    return status, str(result.get("output", "")) if isinstance(result, dict) else ""
