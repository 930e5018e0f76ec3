"""Submission intake: what a student uploaded is checked against the assignment, stored, and
queued for grading once the transaction commits."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from autograder import blobs, dispatch, notebooks, selectors, uploads
from autograder.models import Assignment, AssignmentKind, FileRole, Submission, SubmissionFile
from autograder.services.assignments import listing
from courseapp.courses.selectors import require_student, student_enrollments

NOTEBOOK_SUFFIX = notebooks.SUFFIX
# What a student is told when their files could not be stored (the bucket did not answer): an
# infrastructure fault, not their upload's, and nothing was kept (the transaction rolled back).
NOT_STORED = (
    "Your files could not be stored just now: the file store is not answering. Nothing was "
    "submitted and nothing counts against your limit; please submit again in a minute."
)


@transaction.atomic
def submission_create(*, assignment: Assignment, student, files: dict[str, bytes]) -> Submission:
    """Validate and store a submission, then queue it for grading once the transaction commits."""
    # Locking the enrollment makes two quick uploads count against the limit one after the other.
    # of=("self",): student_enrollments joins the user, whose row must not be locked too.
    enrollments = student_enrollments(course=assignment.course).select_for_update(of=("self",))
    if enrollments.filter(user=student).first() is None:
        require_student(user=student, course=assignment.course)  # refused, with the one message
    allowance = selectors.submission_allowance(assignment=assignment, student=student)
    if allowance.left == 0:
        raise ValidationError(f"You have used all {allowance.limit} submissions.")
    if allowance.next_at:
        wait = int((allowance.next_at - timezone.now()).total_seconds()) + 1
        raise ValidationError(f"Please wait {wait} s before submitting again.")
    checked = check_submission(assignment, files)
    submission = Submission.objects.create(
        assignment=assignment, student=student, number=allowance.used + 1
    )
    for name, content in checked.items():
        SubmissionFile.objects.create(
            submission=submission, name=name, sha256=blobs.put(content), size=len(content)
        )
    dispatch.enqueue_on_commit(submission)
    return submission


def check_submission(assignment: Assignment, files: dict[str, bytes]) -> dict[str, bytes]:
    """What a submission holds, by file name, once zips are unpacked and everything is checked:
    a ``ValidationError`` saying what is wrong otherwise."""
    expected = selectors.expected_files(assignment=assignment)
    if not files and assignment.kind == AssignmentKind.PYTHON:
        raise ValidationError(f"Upload {listing(expected)} (or a zip of them).")
    if not files:
        raise ValidationError(f"Upload your notebook, {listing(expected)}.")
    files = uploads.unpack(files, max_bytes=assignment.max_upload_bytes)
    if assignment.kind == AssignmentKind.PYTHON:
        return _check_python(expected, files)
    if len(expected) > 1:
        handed_out = set(selectors.assignment_file_names(assignment=assignment, role=FileRole.DATA))
        return _check_notebook_set(expected, handed_out, files)
    if len(files) != 1:
        raise ValidationError(f"Upload one file: your {expected[0]}.")
    [(name, content)] = files.items()
    if not name.endswith(NOTEBOOK_SUFFIX):
        raise ValidationError(f"{name} is not a notebook; upload your {expected[0]}.")
    _check_notebook(name, content)
    return {expected[0]: content}


def _check_notebook_set(
    expected: list[str], handed_out: set[str], files: dict[str, bytes]
) -> dict[str, bytes]:
    """Several notebooks: any of them, by the names they were handed out with (nbgrader grades
    what was submitted and scores a missing notebook 0). The assignment's data files may come
    along (a zip of the whole folder) and are left out: the grader uses its own copies."""
    unknown = sorted(set(files) - set(expected) - handed_out)
    renamed = [n for n in unknown if n.endswith(NOTEBOOK_SUFFIX)]
    if renamed:
        raise ValidationError(
            f"{listing(renamed)}: not a notebook of this assignment. Upload {listing(expected)} "
            "under the names they were handed out with."
        )
    if unknown:
        raise ValidationError(f"Only {listing(expected)} are graded; leave out {listing(unknown)}.")
    chosen = {name: files[name] for name in expected if name in files}
    if not chosen:
        raise ValidationError(f"Upload your notebooks, {listing(expected)} (or a zip of them).")
    for name, content in chosen.items():
        _check_notebook(name, content)
    return chosen


def _check_notebook(name: str, content: bytes) -> None:
    try:
        notebooks.read(content, name=name)
    except notebooks.NotebookError as exc:
        raise ValidationError(str(exc)) from exc


def _check_python(expected: list[str], files: dict[str, bytes]) -> dict[str, bytes]:
    missing = [name for name in expected if name not in files]
    extra = sorted(set(files) - set(expected))
    if missing:
        hint = f" You uploaded {listing(extra)}: rename it to match." if extra else ""
        raise ValidationError(f"Missing {listing(missing)}.{hint}")
    if extra:
        raise ValidationError(f"Only {listing(expected)} are graded; leave out {listing(extra)}.")
    for name in expected:
        if name.endswith(".py"):
            try:
                compile(files[name], name, "exec", dont_inherit=True)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
                why = getattr(exc, "msg", None) or "it cannot be parsed"
                raise ValidationError(f"{name} is not valid Python{line}: {why}.") from exc
    return files
