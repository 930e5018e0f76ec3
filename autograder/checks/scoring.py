"""Scoring the reference checks of one grading: which the student's source already fails (a
forbidden API, or code that changes torch or reaches for the checking machinery), the inputs made
for the others, and, after the sandbox ran, their scores: attested outputs judged by their kind
(``Kind.points``, else all or nothing on ``reference.problem``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from autograder import findings, reach
from autograder.checks.cells import in_cells
from autograder.checks.exchange import load_outputs, save_inputs
from autograder.checks.forbidden import forbidden_uses
from autograder.checks.inputs import make_inputs, salted
from autograder.checks.reference import best_device, problem
from autograder.checks.registry import kind_of
from autograder.checks.spec import Check
from autograder.checks.tampering import tampering
from autograder.failures import InfrastructureFault
from autograder.grades import HIDDEN_OUTPUT, TestResult, reported


@dataclass
class PreparedChecks:
    """The reference checks of one grading: which the student's source already fails (a
    forbidden API), the inputs made for the others, and, after the run, their scores."""

    checks: tuple[Check, ...]
    forbidden: dict[str, list[str]]
    inputs: dict[str, dict]
    private: dict[str, bytes]
    device: str = "cpu"
    tampering: tuple[str, ...] = ()  # where the student's code changes torch or the checks
    reaches: tuple[str, ...] = ()  # where it reaches for the checking machinery (``reach``)
    staff_log: list[str] = field(default_factory=list)  # what staff should look at

    @classmethod
    def prepare(
        cls,
        reference_checks,
        students: dict[str, bytes],
        private: dict[str, bytes],
        data: dict,
        *,
        aliases: dict[str, str] | None = None,
        key: bytes | None = None,
    ) -> PreparedChecks:
        """``key``: the secret the inputs are salted with (``checks.inputs.salted``): the
        assignment's own ``check_key``, which every worker reads from the database, so that the
        same files get the same inputs on any machine; the site's ``SECRET_KEY`` where no
        assignment is at hand (a benchmark, a test)."""
        key = key or settings.SECRET_KEY.encode()
        reference_checks = tuple(salted(c, students, key) for c in reference_checks)
        changes = tampering(students, aliases=aliases) if reference_checks else []
        reaches = reach.reaches(students, aliases=aliases) if reference_checks else []
        untrusted = changes + reaches
        forbidden = {
            c.name: uses
            for c in reference_checks
            if (uses := untrusted or forbidden_uses(students, c.forbidden, target=c.target_name))
        }
        inputs = {
            c.name: make_inputs(c, private, data)
            for c in reference_checks
            if c.name not in forbidden
        }
        device = best_device() if reference_checks else "cpu"
        return cls(
            tuple(reference_checks),
            forbidden,
            inputs,
            private,
            device,
            tuple(changes),
            tuple(reaches),
        )

    def told_in_cells(self, places: list[str]) -> PreparedChecks:
        """The same, with places in a notebook said as cells and lines."""
        self.forbidden = {n: in_cells(uses, places) for n, uses in self.forbidden.items()}
        self.tampering = tuple(in_cells(list(self.tampering), places))
        self.reaches = tuple(in_cells(list(self.reaches), places))
        return self

    @property
    def to_run(self) -> list[Check]:
        return [c for c in self.checks if c.name in self.inputs]

    def input_files(self) -> dict[str, bytes]:
        return {c.files()[0]: self.input_bytes(c) for c in self.to_run}

    def output_files(self) -> list[str]:
        return [c.files()[1] for c in self.to_run]

    def score(
        self,
        results: dict,
        files: dict[str, bytes],
        notes: list[str],
        *,
        status: dict | None,
        stderr: str,
    ) -> list[TestResult]:
        """``results``: how each check's probe ended in the sandbox, by check name; ``status``:
        the runner's signed status (the guard's keys); ``stderr``: the sandbox's (the guard's
        findings at run time)."""
        keys = (status or {}).get("probe_keys") or []
        if self.to_run and status is not None and not keys:  # ours, before any student code
            raise InfrastructureFault(
                f"The checks' guard was not sealed: {status.get('guard_error', 'no key')}"
            )
        run_time = findings.at_run_time(stderr) if self.to_run else []
        told = {"changes": self.tampering, "reaches": self.reaches, "run_time": run_time}
        self.staff_log += findings.for_staff(**told)
        untrusted = findings.message(**told)
        scored = []
        for check in self.checks:
            if untrusted:
                scored.append(TestResult(check.name, Decimal(0), check.points, "failed", untrusted))
                continue
            if check.name in self.forbidden:
                scored.append(forbidden_result(check, self.forbidden[check.name]))
                continue
            result = results.get(check.name, {"status": "failed", "output": "It did not run."})
            outputs = files.get(check.files()[1])
            if outputs is not None and result.get("status") == "passed":
                actual = findings.attested_outputs(check, outputs, self.input_bytes(check), keys)
                if actual is None:
                    self.staff_log.append(f"Check {check.name!r}: {findings.UNATTESTED}")
                    result = {"status": "failed", "output": findings.UNATTESTED}
            scored.append(
                check_result(
                    check,
                    result,
                    self.inputs[check.name],
                    files,
                    self.device,
                    self.private,
                    self.staff_log,
                )
            )
        if self.checks:
            notes.append(f"Reference checks ran on {self.device}.")
        return scored

    def input_bytes(self, check: Check) -> bytes:
        return save_inputs(self.inputs[check.name])


def check_result(check, result, inputs, files, device, private, staff: list) -> TestResult:
    """A reference check: the probe ran in the sandbox; judge its outputs here, by its kind."""
    status, output = reported(result)
    if status == "passed":
        kind = kind_of(check)
        actual = load_outputs(files.get(check.files()[1], b""))
        if actual is None:
            status, output = "failed", "Your code did not produce its outputs."
        elif late := kind.over_budget(check, result):
            status, output = "failed", late
        elif (earned := kind.points(check, actual)) is not None:  # by degree: some or all
            points, output = earned
            staff.extend(kind.for_staff(check, actual))
            status = "passed" if points == check.points else "partial" if points else "failed"
            return TestResult(check.name, points, check.points, status, output)
        else:
            found = problem(check, inputs, actual, device=device, private=private)
            status, output = ("failed" if found else "passed"), found
    if output and check.hidden:
        output = HIDDEN_OUTPUT
    output = f"{output}\n(seed {check.seed})".strip() if status == "failed" else ""
    points = check.points if status == "passed" else Decimal(0)
    return TestResult(check.name, points, check.points, status, output)


CHANGED_OUTPUTS = (
    "The check's outputs were written again after it had run (by the student's own code); "
    "the check scores 0."
)


def changed_outputs(files: dict[str, bytes], signed: dict) -> set[str]:
    """The checks' outputs files that are not what the runner took when their check ended (or
    that it never took: written after a check that left none)."""
    return {
        name
        for name, content in files.items()
        if hashlib.sha256(content).hexdigest() != signed.get(name)
    }


def forbidden_result(check, uses: list[str]) -> TestResult:
    message = f"Your code uses what this check forbids: {'; '.join(uses)}."
    return TestResult(check.name, Decimal(0), check.points, "failed", message)


def checks_zero(reference_checks, message: str) -> list[TestResult]:
    """Every check at 0, with ``message``: nothing of the run could be scored."""
    return [TestResult(c.name, Decimal(0), c.points, "failed", message) for c in reference_checks]
