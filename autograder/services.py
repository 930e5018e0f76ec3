"""Writes of the autograder: importing assignments, accepting submissions, recording gradings.

The queue side (claiming a submission, queueing it again, failing it) is here too, as plain
functions the Celery tasks call; sending messages is ``autograder.dispatch``'s and finding stuck
submissions ``autograder.sweeper``'s. Scores reach the gradebook through
``grading.services.scores.score_set``.
"""

from __future__ import annotations

import datetime
import logging
import socket
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Now
from django.utils import timezone

from autograder import blobs, dispatch, failures, harness, notebooks, selectors, uploads
from autograder.checks.cells import cell_checks
from autograder.checks.parsing import parse_toml, reference_files, weights_files
from autograder.checks.spec import Check, CheckError
from autograder.execution import RESERVED_NAMES
from autograder.grader import grade_python
from autograder.grades import Grade, gradescope_results, test_dicts, total_points
from autograder.models import (
    Assignment,
    AssignmentFile,
    AssignmentKind,
    FileRole,
    GradingRun,
    ManualGrade,
    Submission,
    SubmissionFile,
    SubmissionState,
)
from autograder.notebook_pipeline import grade_notebook
from autograder.notebook_set import grade_notebook_set
from autograder.sandbox import Limits
from courseapp.courses.models import Course, Enrollment, Role
from grading.models import GradedItem, ItemKind, Source
from grading.services.items import graded_item_create
from grading.services.scores import points_value, score_set

logger = logging.getLogger(__name__)
NOTEBOOK_SUFFIX = notebooks.SUFFIX
# Claims of one submission (since it was submitted or staff queued it again) before it is given
# up: each one ended with its worker dying.
MAX_ATTEMPTS = 3
PENDING = (SubmissionState.QUEUED, SubmissionState.RUNNING)


@transaction.atomic
def assignment_import(
    *,
    course: Course,
    slug: str,
    files: dict[str, bytes],
    title: str = "",
    item_name: str | None = None,
) -> Assignment:
    """Create or update an assignment from nbgrader source notebooks and the data files beside
    them, or from a Python test harness with its ``autograder.toml`` (``autograder.harness``).

    The graded item is ``item_name`` if given (it must exist), else the one the assignment already
    has, else a new Assignments item named after the title.
    """
    files = {uploads.safe_name(name): content for name, content in files.items()}
    reserved = sorted(RESERVED_NAMES & set(files))
    if reserved:
        raise ValidationError(f"{', '.join(reserved)}: the grader uses those names; rename them.")
    if harness.SPEC_NAME in files and not any(n.endswith(NOTEBOOK_SUFFIX) for n in files):
        kind, points, stored = AssignmentKind.PYTHON, *_python_files(files)
    else:
        kind, points, stored = AssignmentKind.NOTEBOOK, *_notebook_files(files)
    assignment = Assignment.objects.filter(course=course, slug=slug).first()
    if assignment is None:
        item = _item_for(course, item_name, title or slug, points)
        assignment = Assignment(course=course, slug=slug, item=item, kind=kind)
    elif item_name:
        assignment.item = _item_for(course, item_name, title or slug, points)
    if assignment.kind != kind and assignment.submissions.exists():
        raise ValidationError(
            f"{assignment} has submissions as a {assignment.get_kind_display()}; "
            "import the new kind under another slug."
        )
    _refuse_renaming_tests(assignment, stored)
    assignment.kind = kind
    assignment.title = title or assignment.title or slug
    assignment.save()
    assignment.files.all().delete()
    for role, name, content in stored:
        AssignmentFile.objects.create(
            assignment=assignment,
            role=role,
            name=name,
            sha256=blobs.put(content),
            size=len(content),
        )
    return assignment


def _refuse_renaming_tests(assignment: Assignment, stored: list) -> None:
    """Going from one notebook to several (or back) renames every test (``problem1/…``), which
    the hand grades of existing submissions are keyed by."""
    after = [n for role, n, _ in stored if role == FileRole.RELEASE and n.endswith(NOTEBOOK_SUFFIX)]
    before = selectors.notebook_names(assignment) if assignment.pk else after
    if (len(before) > 1) != (len(after) > 1) and assignment.submissions.exists():
        raise ValidationError(
            f"{assignment} has submissions graded as {len(before)} notebook(s) "
            f"({_listing(before)}); import {_listing(after)} under another slug."
        )


def _notebook_files(files: dict[str, bytes]) -> tuple[Decimal, list]:
    """One or more nbgrader source notebooks (an nbgrader assignment folder: ``ps1`` holds
    ``problem1.ipynb``, ``problem2.ipynb`` and ``jupyter.png``); everything else is data, or
    private when checks name it. Each notebook gets its student version."""
    sources = {n: c for n, c in sorted(files.items()) if n.endswith(NOTEBOOK_SUFFIX)}
    if not sources:
        raise ValidationError(
            "Give one or more nbgrader source notebooks (.ipynb), or a Python harness with its "
            f"{harness.SPEC_NAME}."
        )
    found = list(_notebook_checks(files))
    if found and len(sources) > 1:
        raise ValidationError(
            f"The checks of {harness.SPEC_NAME} apply to one notebook; with several notebooks, "
            "write each check in a grade cell of its notebook."
        )
    points = sum((c.points for c in found), Decimal(0))  # a check cell's are counted already
    in_toml, stored = len(found), []
    for name, source in sources.items():
        notebook_points, release, in_cells = _source_notebook(name, source, first=in_toml)
        names = [c.name for c in (*found[:in_toml], *in_cells)]
        if len(set(names)) != len(names):
            raise ValidationError("A check in a cell has the name of one in autograder.toml.")
        points += notebook_points
        found += in_cells
        stored += [(FileRole.SOURCE, name, source), (FileRole.RELEASE, name, release)]
    if points <= 0:
        what = f"{next(iter(sources))} has" if len(sources) == 1 else "None of the notebooks have"
        raise ValidationError(f"{what} no graded cells (nbgrader 'points').")
    private = reference_files(found) | ({harness.SPEC_NAME} & set(files))
    missing = sorted((private | weights_files(found)) - set(files))
    if missing:
        raise ValidationError(f"The checks name {', '.join(missing)}, which is not here.")
    stored += [(FileRole.SOURCE if n in private else FileRole.DATA, n, c)
               for n, c in files.items() if n not in sources]  # fmt: skip
    return points, stored


def _source_notebook(name: str, source: bytes, *, first: int) -> tuple[Decimal, bytes, tuple]:
    """A source notebook's points, its student version, and the checks in its grade cells;
    refused with the reason when it cannot be graded as nbgrader would grade it."""
    try:
        notebook = notebooks.read(source, name=name)
        release = notebooks.dumps(notebooks.release_version(notebook, name=name))
    except notebooks.NotebookError as exc:
        raise ValidationError(str(exc)) from exc
    try:
        in_cells = cell_checks(notebook, first_index=first)
    except CheckError as exc:
        raise ValidationError(f"{name}: {exc}") from exc
    problem = notebooks.free_points(notebook, besides={c.name for c in in_cells})
    if problem:
        raise ValidationError(f"{name}: {problem}")
    return notebooks.graded_points(notebook), release, in_cells


def _notebook_checks(files: dict[str, bytes]) -> tuple[Check, ...]:
    """The reference checks of an ``autograder.toml`` beside a notebook, if there is one."""
    if harness.SPEC_NAME not in files:
        return ()
    try:
        return parse_toml(files[harness.SPEC_NAME])
    except CheckError as exc:
        raise ValidationError(f"{harness.SPEC_NAME}: {exc}") from exc


def _python_files(files: dict[str, bytes]) -> tuple[Decimal, list]:
    """The spec, the harness and private files are kept from students; starter files named in
    the spec's ``files`` are the student version; anything else is data."""
    try:
        spec = harness.parse(files[harness.SPEC_NAME])
    except harness.SpecError as exc:
        raise ValidationError(str(exc)) from exc
    missing = sorted((spec.kept_from_students | weights_files(spec.checks)) - set(files))
    if missing:
        raise ValidationError(f"{harness.SPEC_NAME} names {', '.join(missing)}, which is not here.")
    stored = []
    for name, content in files.items():
        if name in spec.kept_from_students:
            role = FileRole.SOURCE
        else:
            role = FileRole.RELEASE if name in spec.files else FileRole.DATA
        stored.append((role, name, content))
    return spec.points, stored


def _item_for(course: Course, item_name: str | None, title: str, points: Decimal) -> GradedItem:
    if item_name:
        item = GradedItem.objects.filter(course=course, name=item_name).first()
        if item is None:
            raise ValidationError(f"{course.code} has no graded item {item_name!r}.")
        return item
    return graded_item_create(
        course=course, component="Assignments", name=title, kind=ItemKind.ASSIGNMENT,
        max_points=points,
    )  # fmt: skip


def assignment_file(
    assignment: Assignment, role: FileRole, name: str | None = None
) -> tuple[str, bytes]:
    """The assignment's file of ``role`` (named ``name``, when it has several of that role)."""
    found = assignment.files.filter(role=role)
    found = found.get(name=name) if name is not None else found.get()
    return found.name, blobs.get(found.sha256)


def assignment_limits(assignment: Assignment) -> Limits:
    return Limits(
        wall_seconds=float(assignment.run_timeout_seconds),
        cpu_seconds=assignment.run_timeout_seconds,
        memory_bytes=assignment.memory_mb * 2**20,
        output_bytes=assignment.output_kb * 1024,
    )


def submission_files(submission: Submission) -> dict[str, bytes]:
    return {f.name: blobs.get(f.sha256) for f in submission.files.all()}


def submission_grade(*, submission: Submission) -> Grade:
    """Grade a claimed submission. A file of it or of its assignment missing from storage, or
    the worker out of disk or processes, is an infrastructure fault (``failures``)."""
    with failures.worker_resources():
        return grade_files(submission.assignment, submission_files(submission))


def _files(assignment: Assignment, role: FileRole) -> dict[str, bytes]:
    return {f.name: blobs.get(f.sha256) for f in assignment.files.filter(role=role)}


def harness_spec(assignment: Assignment) -> harness.HarnessSpec:
    spec = assignment.files.get(role=FileRole.SOURCE, name=harness.SPEC_NAME)
    return harness.parse(blobs.get(spec.sha256))


def grade_files(assignment: Assignment, submitted: dict[str, bytes]) -> Grade:
    """Grade ``submitted`` (file name to content) for ``assignment``: the one path the worker and
    ``autograde`` share."""
    data = _files(assignment, FileRole.DATA)
    limits = assignment_limits(assignment)
    sources = _files(assignment, FileRole.SOURCE)
    if assignment.kind == AssignmentKind.PYTHON:
        return grade_python(
            spec=harness.parse(sources[harness.SPEC_NAME]),
            instructor_files=sources,
            submitted=submitted,
            data_files=data,
            limits=limits,
            test_timeout=assignment.cell_timeout_seconds,
        )
    notebook_sources = {n: c for n, c in sources.items() if n.endswith(NOTEBOOK_SUFFIX)}
    _refuse_free_points(notebook_sources)
    if len(notebook_sources) > 1:
        return grade_notebook_set(
            sources=notebook_sources, submitted=submitted, data_files=data, limits=limits,
            cell_timeout=assignment.cell_timeout_seconds, private=sources,
        )  # fmt: skip
    [source] = notebook_sources.values()
    handed_in = {n: c for n, c in submitted.items() if n.endswith(NOTEBOOK_SUFFIX)} or submitted
    [(filename, notebook)] = handed_in.items() if len(handed_in) == 1 else [("", b"")]
    return grade_notebook(
        source=source,
        submitted=notebook,
        data_files=data,
        limits=limits,
        cell_timeout=assignment.cell_timeout_seconds,
        filename=filename or "the notebook",
        reference_checks=_notebook_checks(sources),
        private=sources,
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


@dataclass(frozen=True)
class Allowance:
    used: int
    limit: int | None
    next_at: datetime.datetime | None  # when the cooldown ends, if it has not

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)


def submission_allowance(*, assignment: Assignment, student, now=None) -> Allowance:
    now = now or timezone.now()
    mine = Submission.objects.filter(assignment=assignment, student=student)
    last = mine.aggregate(last=Max("created_at"))["last"]
    next_at = None
    if last and assignment.cooldown_seconds:
        next_at = last + datetime.timedelta(seconds=assignment.cooldown_seconds)
        next_at = next_at if next_at > now else None
    return Allowance(mine.count(), assignment.max_submissions, next_at)


def check_submission(assignment: Assignment, files: dict[str, bytes]) -> dict[str, bytes]:
    """What a submission holds, by file name, once zips are unpacked and everything is checked:
    a ``ValidationError`` saying what is wrong otherwise."""
    expected = expected_files(assignment)
    if not files and assignment.kind == AssignmentKind.PYTHON:
        raise ValidationError(f"Upload {_listing(expected)} (or a zip of them).")
    if not files:
        raise ValidationError(f"Upload your notebook, {_listing(expected)}.")
    files = uploads.unpack(files, max_bytes=assignment.max_upload_kb * 1024)
    if assignment.kind == AssignmentKind.PYTHON:
        return _check_python(expected, files)
    if len(expected) > 1:
        handed_out = set(_names(assignment, FileRole.DATA))
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
            f"{_listing(renamed)}: not a notebook of this assignment. Upload {_listing(expected)} "
            "under the names they were handed out with."
        )
    if unknown:
        raise ValidationError(
            f"Only {_listing(expected)} are graded; leave out {_listing(unknown)}."
        )
    chosen = {name: files[name] for name in expected if name in files}
    if not chosen:
        raise ValidationError(f"Upload your notebooks, {_listing(expected)} (or a zip of them).")
    for name, content in chosen.items():
        _check_notebook(name, content)
    return chosen


def _check_notebook(name: str, content: bytes) -> None:
    try:
        notebooks.read(content, name=name)
    except notebooks.NotebookError as exc:
        raise ValidationError(str(exc)) from exc


def expected_files(assignment: Assignment) -> list[str]:
    """The file names a submission must hold (of several notebooks: may)."""
    if assignment.kind == AssignmentKind.PYTHON:
        return list(harness_spec(assignment).files)
    return selectors.notebook_names(assignment)


def _names(assignment: Assignment, role: FileRole) -> list[str]:
    return list(assignment.files.filter(role=role).values_list("name", flat=True))


def _check_python(expected: list[str], files: dict[str, bytes]) -> dict[str, bytes]:
    missing = [name for name in expected if name not in files]
    extra = sorted(set(files) - set(expected))
    if missing:
        hint = f" You uploaded {_listing(extra)}: rename it to match." if extra else ""
        raise ValidationError(f"Missing {_listing(missing)}.{hint}")
    if extra:
        raise ValidationError(f"Only {_listing(expected)} are graded; leave out {_listing(extra)}.")
    for name in expected:
        if name.endswith(".py"):
            try:
                compile(files[name], name, "exec", dont_inherit=True)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
                why = getattr(exc, "msg", None) or "it cannot be parsed"
                raise ValidationError(f"{name} is not valid Python{line}: {why}.") from exc
    return files


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "nothing"


@transaction.atomic
def submission_create(*, assignment: Assignment, student, files: dict[str, bytes]) -> Submission:
    """Validate and store a submission, then queue it for grading once the transaction commits."""
    # Locking the enrollment makes two quick uploads count against the limit one after the other.
    enrollment = Enrollment.objects.select_for_update().filter(
        course=assignment.course, user=student, role=Role.STUDENT
    )
    if enrollment.first() is None:
        raise ValidationError(f"{student.username} is not a student of {assignment.course.code}.")
    allowance = submission_allowance(assignment=assignment, student=student)
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


def submission_claim(
    *, submission_pk: int, token: str, worker: str = "", retry: bool = False
) -> Submission | None:
    """Move a queued submission to running under ``token`` (the task's id) and ``worker`` (the
    Celery node whose heartbeat the sweeper watches); None when it is not this delivery's to
    grade. The same message delivered again after its worker process died carries the same token
    and takes the submission back, up to ``MAX_ATTEMPTS`` claims, then gives it up; any other
    delivery finds it taken and does nothing. A ``retry`` (of an infrastructure fault) takes only
    a submission still waiting for it: once staff or the sweeper queued it again, the fresh
    message grades it, with its own tries. The claim time is the database's clock, as the
    heartbeats' are."""
    changes = {"state_changed_at": Now(), "attempts": F("attempts") + 1, "claimed_worker": worker}
    mine = Submission.objects.filter(pk=submission_pk)
    again = mine.filter(state=SubmissionState.RUNNING, claimed_by=token)
    queued = mine.filter(state=SubmissionState.QUEUED)
    if retry:
        queued = queued.filter(claimed_by=token)
    claimed = queued.update(
        state=SubmissionState.RUNNING, claimed_by=token, **changes
    ) or again.filter(attempts__lt=MAX_ATTEMPTS).update(**changes)
    if claimed:
        return Submission.objects.select_related("assignment__item", "student").get(
            pk=submission_pk
        )
    for submission in again:  # it killed the worker process every time
        submission_give_up(submission=submission)
    return None


@transaction.atomic
def submission_record(
    *, submission: Submission, grade: Grade, started_at, token: str
) -> GradingRun | None:
    """Store the run and the score, once, and only for the delivery that holds the claim: a
    submission requeued meanwhile (staff fixed a test) is left to the newer grading."""
    if (
        not Submission.objects.select_for_update()
        .filter(pk=submission.pk, state=SubmissionState.RUNNING, claimed_by=token)
        .exists()
    ):
        return None
    tests = test_dicts(grade)
    score = total_points(tests, _manual_points(submission))
    run = GradingRun.objects.create(
        submission=submission,
        worker=socket.gethostname(),
        isolation=grade.isolation,
        device=grade.device,
        started_at=started_at,
        finished_at=timezone.now(),
        duration_seconds=grade.duration_seconds,
        score=score,
        max_score=grade.max_score,
        tests=tests,
        notes=grade.notes,
        log=grade.log[-8000:],
        executed_sha256=blobs.put(grade.executed) if grade.executed else "",
        executed_notebooks={n: blobs.put(c) for n, c in grade.executed_notebooks.items()},
    )
    Submission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.GRADED, state_changed_at=Now(),
        score=score, max_score=grade.max_score,
    )  # fmt: skip
    if _is_newest_graded(submission):
        _to_gradebook(submission, score, grade.max_score, reason=f"Submission #{submission.number}")
    return run


def _is_newest_graded(submission: Submission) -> bool:
    """The gradebook holds the student's newest graded submission, whatever finishes last."""
    newest = (
        Submission.objects.filter(
            assignment=submission.assignment_id, student=submission.student_id,
            state=SubmissionState.GRADED,
        )
        .order_by("-number")
        .values_list("pk", flat=True)
        .first()
    )  # fmt: skip
    return newest == submission.pk


def _manual_points(submission: Submission) -> dict[str, Decimal]:
    return dict(submission.manual_grades.values_list("grade_id", "points"))


@transaction.atomic
def manual_grade_set(
    *, submission: Submission, grade_id: str, points, comment: str = "", by
) -> ManualGrade:
    """A TA's points for a written answer; the submission's total and the gradebook follow."""
    run = selectors.latest_run(submission=submission)
    test = next(
        (
            t
            for t in (run.tests if run else [])
            if t["name"] == grade_id and t["status"] == "manual"
        ),
        None,
    )
    if test is None:
        raise ValidationError(f"{grade_id} is not a hand-graded cell of this submission.")
    points = points_value(points, maximum=Decimal(test["max_score"]), what=f"{grade_id}: points")
    grade, _ = ManualGrade.objects.update_or_create(
        submission=submission, grade_id=grade_id,
        defaults={"points": points, "comment": comment, "graded_by": by},
    )  # fmt: skip
    score = total_points(run.tests, _manual_points(submission))
    Submission.objects.filter(pk=submission.pk).update(score=score)
    if _is_newest_graded(submission):  # an older submission's total is not the grade
        _to_gradebook(submission, score, run.max_score, reason=f"Hand grade of {grade_id}", by=by)
    return grade


def _to_gradebook(
    submission: Submission, score: Decimal, maximum: Decimal, *, reason: str, by=None
) -> None:
    item = submission.assignment.item
    points = (score / maximum * item.max_points).quantize(Decimal("0.001")) if maximum else 0
    score_set(
        item=item, student=submission.student, points=points, by=by, source=Source.AUTOGRADER,
        reason=reason, submitted_at=submission.created_at,
    )  # fmt: skip


def run_results_json(submission: Submission, run: GradingRun) -> dict:
    """A stored grading as Gradescope's ``results.json``, hand grades included."""
    return gradescope_results(
        run.tests, manual=_manual_points(submission), execution_time=run.duration_seconds or 0,
        output="\n".join(run.notes),
    )  # fmt: skip


def latest_submissions(assignment: Assignment):
    """Each student's newest submission: what "grade everything again" grades."""
    newest = {}
    for submission in assignment.submissions.order_by("number"):
        newest[submission.student_id] = submission
    return list(newest.values())


@transaction.atomic
def assignment_regrade(*, assignment: Assignment) -> int:
    """Grade every student's newest submission again, and remember the batch for its progress
    (``selectors.regrade_progress``). Returns how many were queued."""
    batch = latest_submissions(assignment)
    _queue_again(batch)
    Assignment.objects.filter(pk=assignment.pk).update(
        regrade_started_at=Now(), regrade_batch=[s.pk for s in batch]
    )
    return len(batch)


def submission_fail(
    *, submission: Submission, error: str, retry: bool = False, token: str | None = None
) -> bool:
    """Grading itself failed (not the student's code): say so on a run of its own, keep the
    score as it was (nothing reaches the gradebook). ``retry``: the task tries again after a
    backoff, so the submission waits queued (its message counted as sent now, for the
    sweeper); else it is failed, for staff to look at.

    Only a queued or running submission fails, and once: True when this call changed it. With
    ``token``, only while that claim holds it: a grading superseded by a requeue leaves the newer
    one alone."""
    pending = Submission.objects.filter(pk=submission.pk, state__in=PENDING)
    if token is not None:
        pending = pending.filter(claimed_by=token)
    if retry:
        # sent_at as dispatch writes it (the sender's clock): the sweeper's conditional update
        # matches it exactly, and SQLite stores the database's clock as text of another format.
        changes = {"state": SubmissionState.QUEUED, "sent_at": timezone.now()}
    else:
        changes = {"state": SubmissionState.FAILED}
    # The database's clock, as claims and heartbeats: the sweeper compares it with the worker's
    # heartbeat to tell a retry whose worker died.
    if not pending.update(state_changed_at=Now(), **changes):
        return False
    prefix = "Will be tried again: " if retry else ""
    GradingRun.objects.create(
        submission=submission, worker=socket.gethostname(), isolation="", started_at=timezone.now(),
        finished_at=timezone.now(), error=(prefix + error)[-4000:],
    )  # fmt: skip
    return True


def submission_give_up(*, submission: Submission) -> bool:
    """It was claimed ``MAX_ATTEMPTS`` times and each time its worker died: stop, for staff to
    look at (unless it moved on since it was read)."""
    return submission_fail(
        submission=submission, error=f"Gave up after {MAX_ATTEMPTS} attempts.",
        token=submission.claimed_by,
    )  # fmt: skip


@transaction.atomic
def submission_requeue(*, submission: Submission) -> Submission:
    """Grade again from the start (staff, after fixing a test): a fresh message, a new claim,
    attempts counted from zero. A grading in progress is superseded (it records nothing)."""
    _queue_again([submission])
    submission.refresh_from_db()
    return submission


def _queue_again(submissions: list[Submission]) -> None:
    Submission.objects.filter(pk__in=[s.pk for s in submissions]).update(
        state=SubmissionState.QUEUED, state_changed_at=Now(), claimed_by="",
        claimed_worker="", attempts=0, sent_at=None,
    )  # fmt: skip
    dispatch.enqueue_on_commit(*submissions)
