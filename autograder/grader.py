"""Grading a Python-file submission, as plain data: the harness's tests and the reference checks
run in the sandbox, scored here. (A notebook: ``autograder.notebook_pipeline``.)

No database here: the Celery task, ``manage.py autograde`` and the tests all call ``grade_python``
with bytes and get a ``Grade`` back, so every path grades the same way.
"""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal

from autograder import harness
from autograder.checks.exchange import public_datasets
from autograder.checks.scoring import CHANGED_OUTPUTS, PreparedChecks, changed_outputs
from autograder.execution import run_python_tests
from autograder.grades import HIDDEN_OUTPUT, Grade, TestResult, reported
from autograder.harness import HarnessSpec
from autograder.run_notes import nothing_scored, sandbox_note, unhidden
from autograder.sandbox import Limits, isolation_level


def grade_python(
    *,
    spec: HarnessSpec,
    instructor_files: dict[str, bytes],
    submitted: dict[str, bytes],
    data_files: dict[str, bytes],
    limits: Limits,
    test_timeout: int,
    check_key: bytes | None = None,
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
    prepared = PreparedChecks.prepare(
        spec.checks, students, instructor_files, data_files, key=check_key
    )
    spec = replace(spec, checks=prepared.checks)  # with this submission's seeds (checks.inputs)
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
    replaced = public_datasets(prepared.to_run)
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
    changed = changed_outputs(run.files, run.status.get("outputs") or {})
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


def _harness_result(test, result) -> TestResult:
    status, output = reported(result)
    if test.hidden:
        output = HIDDEN_OUTPUT
    points = test.points if status == "passed" else Decimal(0)
    return TestResult(test.name, points, test.points, status, output)


def _harness_zero(spec: HarnessSpec, message: str) -> list[TestResult]:
    return [
        TestResult(t.name, Decimal(0), t.points, "failed", message)
        for t in (*spec.tests, *spec.checks)
    ]
