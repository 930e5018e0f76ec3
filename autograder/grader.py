"""Grading a Python-file submission, as plain data: the harness's tests and the reference checks
run in the sandbox, scored here. (A notebook: ``autograder.notebook_pipeline``.)

No database here: the Celery task, ``manage.py autograde`` and the tests all call ``grade_python``
with bytes and get a ``Grade`` back, so every path grades the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings

from autograder import checks, findings, harness, reach
from autograder.execution import run_python_tests
from autograder.failures import InfrastructureFault
from autograder.grades import Grade, TestResult
from autograder.harness import HarnessSpec
from autograder.run_notes import nothing_scored, sandbox_note, unhidden
from autograder.sandbox import Limits, isolation_level

HIDDEN_OUTPUT = "A hidden test: its output is not shown."


def grade_python(
    *,
    spec: HarnessSpec,
    instructor_files: dict[str, bytes],
    submitted: dict[str, bytes],
    data_files: dict[str, bytes],
    limits: Limits,
    test_timeout: int,
) -> Grade:
    """Grade a Python-file submission: the harness's tests (``autograder.harness``) and the
    reference checks (``autograder.checks``) run in the sandbox on the student's files; the
    checks' references run here. Each test and check scores all its points or none."""
    started = time.monotonic()
    missing = [name for name in spec.files if name not in submitted]
    if missing:
        message = f"Missing from the submission: {', '.join(missing)}."
        return Grade(
            tests=_harness_zero(spec, message), notes=[message], isolation=isolation_level()
        )
    students = {n: submitted[n] for n in spec.files}
    prepared = _Checks.prepare(spec.checks, students, instructor_files, data_files)
    spec = replace(spec, checks=prepared.checks)  # with this submission's seeds (checks.salted)
    run, runner_spec, replaced, hidden = _run_harness(
        spec, prepared, students, instructor_files, data_files, limits, test_timeout
    )
    notes = []
    stopped = sandbox_note(run.sandbox, limits, what="Your code")
    if stopped:
        notes.append(stopped)
    log = unhidden(replaced, run.sandbox) + (run.sandbox.stderr or "")[-4000:]
    reported = (run.status or {}).get("tests")
    if not isinstance(reported, list) or len(reported) != len(runner_spec["tests"]):
        message = nothing_scored(notes, run.tampered, stopped, "The tests could not be run.")
        tests = _harness_zero(spec, message)
        return Grade.of_run(tests=tests, notes=notes, log=log, sandbox=run.sandbox, started=started)
    if run.status.get("state") == "import_error":
        notes.append("Your code could not be imported, so every test failed; see the first test.")
    results = _results(spec, run, [t["name"] for t in runner_spec["tests"]], reported)
    tests = [_harness_result(test, results[test.name]) for test in spec.tests]
    tests += prepared.score(results, run.files, notes, status=run.status, stderr=run.sandbox.stderr)
    tests, withheld = _without_secrets(tests, harness.secret_fragments(spec, hidden, students))
    log = "".join(f"{line}\n" for line in prepared.staff_log + withheld) + log
    return Grade.of_run(
        tests=tests,
        notes=notes,
        log=log,
        sandbox=run.sandbox,
        started=started,
        device=prepared.device,
    )


def _run_harness(spec, prepared, students, instructor_files, data_files, limits, test_timeout):
    """(run, runner_spec, replaced, hidden): the harness's tests and the checks' probes run in the
    sandbox on the student's files.

    The harness and its private helpers run beside the student's code, its modules from memory
    (never files the student's code could read); the spec and the checks' reference solutions
    never enter the sandbox (the student's code could import or print them)."""
    in_sandbox = {n: c for n, c in instructor_files.items() if n in spec.sandbox_files}
    hidden = {n: c for n, c in in_sandbox.items() if n.endswith(".py")}
    plain = {n: c for n, c in in_sandbox.items() if n not in hidden}
    files = {**data_files, **students, **plain, **prepared.input_files()}
    runner_spec = spec.runner_spec(test_timeout, limits.output_bytes, skip=set(prepared.forbidden))
    replaced = checks.public_datasets(prepared.to_run)
    visible = {t.function for t in spec.tests if not t.hidden}
    shown = {n: harness.shown_view(c, visible) for n, c in hidden.items() if n == spec.harness}
    run = run_python_tests(
        files,
        runner_spec,
        limits=limits,
        collect=prepared.output_files(),
        replaced=replaced,
        hidden=hidden,
        visible=harness.visible_modules(spec, hidden),
        shown=shown,
    )
    return run, runner_spec, replaced, hidden


def _results(spec: HarnessSpec, run, names: list[str], reported: list) -> dict:
    """How each test and check ended, by name; a check whose outputs are not as the runner took
    them when the check was done fails."""
    results = dict(zip(names, reported, strict=True))
    changed = _changed_outputs(run.files, run.status.get("outputs") or {})
    for check in spec.checks:
        if check.files()[1] in changed and results[check.name].get("status") == "passed":
            results[check.name] = {"status": "failed", "output": CHANGED_OUTPUTS}
    return results


SECRET_OUTPUT = "This output held text of the hidden tests or the grader's files; it is not shown."


def _without_secrets(
    tests: list[TestResult], secrets: set[str]
) -> tuple[list[TestResult], list[str]]:
    """(tests, for staff): each test with its output withheld if it holds text the student may
    not see (it got there only by the student's code reading the hidden tests), and a line for
    staff about each."""
    told, staff = [], []
    for test in tests:
        if any(fragment in test.output for fragment in secrets):
            test = TestResult(test.name, test.score, test.max_score, test.status, SECRET_OUTPUT)
            staff.append(
                f"The output of {test.name!r} held text of the hidden tests or private modules, "
                "which the student's code had read; it was withheld from the student."
            )
        told.append(test)
    return told, staff


@dataclass
class _Checks:
    """The reference checks of one grading: which the student's source already fails (a
    forbidden API), the inputs made for the others, and, after the run, their scores."""

    checks: tuple[checks.Check, ...]
    forbidden: dict[str, list[str]]
    inputs: dict[str, dict]
    private: dict[str, bytes]
    device: str = "cpu"
    tampering: tuple[str, ...] = ()  # where the student's code changes torch or the checks
    reaches: tuple[str, ...] = ()  # where it reaches for the checking machinery (``reach``)
    staff_log: list[str] = field(default_factory=list)  # what staff should look at

    @classmethod
    def prepare(
        cls, reference_checks, students: dict[str, bytes], private: dict[str, bytes], data: dict,
        *, aliases: dict[str, str] | None = None,
    ):  # fmt: skip
        key = settings.SECRET_KEY.encode()
        reference_checks = tuple(checks.salted(c, students, key) for c in reference_checks)
        tampering = checks.tampering(students, aliases=aliases) if reference_checks else []
        reaches = reach.reaches(students, aliases=aliases) if reference_checks else []
        untrusted = tampering + reaches
        forbidden = {
            c.name: uses
            for c in reference_checks
            if (
                uses := untrusted
                or checks.forbidden_uses(students, c.forbidden, target=c.target_name)
            )
        }
        inputs = {
            c.name: checks.make_inputs(c, private, data)
            for c in reference_checks
            if c.name not in forbidden
        }
        device = checks.best_device() if reference_checks else "cpu"
        return cls(tuple(reference_checks), forbidden, inputs, private, device, tuple(tampering),
                   tuple(reaches))  # fmt: skip

    def told_in_cells(self, places: list[str]) -> _Checks:
        """The same, with places in a notebook said as cells and lines."""
        self.forbidden = {n: checks.in_cells(uses, places) for n, uses in self.forbidden.items()}
        self.tampering = tuple(checks.in_cells(list(self.tampering), places))
        self.reaches = tuple(checks.in_cells(list(self.reaches), places))
        return self

    @property
    def to_run(self) -> list[checks.Check]:
        return [c for c in self.checks if c.name in self.inputs]

    def input_files(self) -> dict[str, bytes]:
        return {c.files()[0]: self.input_bytes(c) for c in self.to_run}

    def output_files(self) -> list[str]:
        return [c.files()[1] for c in self.to_run]

    def score(
        self, results: dict, files: dict[str, bytes], notes: list[str], *, status: dict | None,
        stderr: str,
    ) -> list[TestResult]:  # fmt: skip
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
                scored.append(TestResult(check.name, Decimal(0), check.points, "failed",
                                         untrusted))  # fmt: skip
                continue
            if check.name in self.forbidden:
                scored.append(_forbidden_result(check, self.forbidden[check.name]))
                continue
            result = results.get(check.name, {"status": "failed", "output": "It did not run."})
            outputs = files.get(check.files()[1])
            if outputs is not None and result.get("status") == "passed":
                actual = findings.attested_outputs(check, outputs, self.input_bytes(check), keys)
                if actual is None:
                    self.staff_log.append(f"Check {check.name!r}: {findings.UNATTESTED}")
                    result = {"status": "failed", "output": findings.UNATTESTED}
            scored.append(
                _check_result(check, result, self.inputs[check.name], files, self.device,
                              self.private, self.staff_log)
            )  # fmt: skip
        if self.checks:
            notes.append(f"Reference checks ran on {self.device}.")
        return scored

    def input_bytes(self, check: checks.Check) -> bytes:
        return checks.save_inputs(self.inputs[check.name])


def _reported(result) -> tuple[str, str]:
    status = result.get("status") if isinstance(result, dict) else None
    status = status if status in ("passed", "failed", "not_run") else "failed"
    return status, str(result.get("output", "")) if isinstance(result, dict) else ""


def _harness_result(test, result) -> TestResult:
    status, output = _reported(result)
    if test.hidden:
        output = HIDDEN_OUTPUT
    points = test.points if status == "passed" else Decimal(0)
    return TestResult(test.name, points, test.points, status, output)


def _check_result(check, result, inputs, files, device, private, staff: list) -> TestResult:
    """A reference check: the probe ran in the sandbox; compare its outputs here."""
    status, output = _reported(result)
    if status == "passed":
        actual = checks.load_outputs(files.get(check.files()[1], b""))
        if actual is None:
            status, output = "failed", "Your code did not produce its outputs."
        elif check.kind == "training" and _over_budget(check, result):
            status, output = "failed", _over_budget(check, result)
        elif check.kind == "training":  # points by accuracy, some or all
            points, output = checks.training_points(check, actual)
            staff.extend(checks.implausible(check, actual))
            status = "passed" if points == check.points else "partial" if points else "failed"
            return TestResult(check.name, points, check.points, status, output)
        else:
            problem = checks.problem(check, inputs, actual, device=device, private=private)
            status, output = ("failed" if problem else "passed"), problem
    if output and check.hidden:
        output = HIDDEN_OUTPUT
    output = f"{output}\n(seed {check.seed})".strip() if status == "failed" else ""
    points = check.points if status == "passed" else Decimal(0)
    return TestResult(check.name, points, check.points, status, output)


CHANGED_OUTPUTS = (
    "The check's outputs were written again after it had run (by the student's own code); "
    "the check scores 0."
)


def _changed_outputs(files: dict[str, bytes], signed: dict) -> set[str]:
    """The checks' outputs files that are not what the runner took when their check ended (or
    that it never took: written after a check that left none)."""
    import hashlib

    return {name for name, content in files.items()
            if hashlib.sha256(content).hexdigest() != signed.get(name)}  # fmt: skip


TRAINING_SLACK = 5.0  # seconds beyond the budget for loading the data and predicting


def _over_budget(check, result: dict) -> str:
    """Training and predicting, timed by the runner outside the student's process (whose clock
    the student's code could change), took longer than the budget allows."""
    took = result.get("duration")
    if not isinstance(took, int | float) or took <= check.time_budget + TRAINING_SLACK:
        return ""
    return (
        f"Training and predicting took {took:.1f} s in all; the budget is "
        f"{check.time_budget:g} s (and {TRAINING_SLACK:g} s to load the data and predict)."
    )


def _forbidden_result(check, uses: list[str]) -> TestResult:
    message = f"Your code uses what this check forbids: {'; '.join(uses)}."
    return TestResult(check.name, Decimal(0), check.points, "failed", message)


def _checks_zero(reference_checks, message: str) -> list[TestResult]:
    return [TestResult(c.name, Decimal(0), c.points, "failed", message) for c in reference_checks]


def _harness_zero(spec: HarnessSpec, message: str) -> list[TestResult]:
    return [
        TestResult(t.name, Decimal(0), t.points, "failed", message)
        for t in (*spec.tests, *spec.checks)
    ]
