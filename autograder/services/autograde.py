"""Grading a submission's files against its assignment: the one path the worker and
``manage.py autograde`` share. Nothing here writes; ``autograder.services.queue`` records."""

from __future__ import annotations

from autograder import failures, harness, notebooks, selectors
from autograder.checks.cells import cell_checks
from autograder.grader import grade_python
from autograder.grades import Grade
from autograder.models import Assignment, AssignmentKind, FileRole, Submission
from autograder.notebook_pipeline import grade_notebook
from autograder.notebook_set import grade_notebook_set
from autograder.sandbox import Limits
from autograder.services.assignments import notebook_checks

NOTEBOOK_SUFFIX = notebooks.SUFFIX


def submission_grade(*, submission: Submission) -> Grade:
    """Grade a claimed submission. A file of it or of its assignment missing from storage, or
    the worker out of disk or processes, is an infrastructure fault (``failures``)."""
    with failures.worker_resources():
        return grade_files(submission.assignment, selectors.submission_files(submission=submission))


def _limits(assignment: Assignment) -> Limits:
    return Limits(
        wall_seconds=float(assignment.run_timeout_seconds),
        cpu_seconds=assignment.run_timeout_seconds,
        memory_bytes=assignment.memory_mb * 2**20,
        output_bytes=assignment.output_kb * 1024,
    )


def grade_files(assignment: Assignment, submitted: dict[str, bytes]) -> Grade:
    """Grade ``submitted`` (file name to content) for ``assignment``."""
    data = selectors.assignment_files(assignment=assignment, role=FileRole.DATA)
    limits = _limits(assignment)
    sources = selectors.assignment_files(assignment=assignment, role=FileRole.SOURCE)
    # The same on every worker (it is in the database), so a regrade anywhere gets the same inputs.
    check_key = assignment.check_key.encode()
    if assignment.kind == AssignmentKind.PYTHON:
        return grade_python(
            spec=harness.parse(sources[harness.SPEC_NAME]),
            instructor_files=sources,
            submitted=submitted,
            data_files=data,
            limits=limits,
            test_timeout=assignment.cell_timeout_seconds,
            check_key=check_key,
        )
    notebook_sources = {n: c for n, c in sources.items() if n.endswith(NOTEBOOK_SUFFIX)}
    _refuse_free_points(notebook_sources)
    # What a notebook's grading takes besides the notebooks, one or several.
    given = {
        "data_files": data,
        "limits": limits,
        "cell_timeout": assignment.cell_timeout_seconds,
        "private": sources,
        "check_key": check_key,
    }
    if len(notebook_sources) > 1:
        return grade_notebook_set(sources=notebook_sources, submitted=submitted, **given)
    [source] = notebook_sources.values()
    handed_in = {n: c for n, c in submitted.items() if n.endswith(NOTEBOOK_SUFFIX)} or submitted
    [(filename, notebook)] = handed_in.items() if len(handed_in) == 1 else [("", b"")]
    return grade_notebook(
        source=source,
        submitted=notebook,
        filename=filename or "the notebook",
        reference_checks=notebook_checks(sources),
        **given,
    )


def _refuse_free_points(sources: dict[str, bytes]) -> None:
    """A source stored before import refused it (``notebooks.free_points``) fails the grading for
    staff to see, rather than giving points for tests that never run."""
    for name, source in sources.items():
        notebook = notebooks.read(source, name=name)
        in_cells = {c.name for c in cell_checks(notebook)}
        problem = notebooks.free_points(notebook, besides=in_cells)
        if problem:
            raise notebooks.SourceError(f"{name}: {problem}")
