"""Reads of the autograder, for pages and the API."""

from __future__ import annotations

import datetime
import io
import zipfile
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from autograder import blobs, harness, notebooks
from autograder.grades import gradescope_results
from autograder.models import (
    Assignment,
    AssignmentKind,
    FileRole,
    GradingRun,
    ManualGrade,
    Submission,
    SubmissionState,
)
from courseapp.courses.models import Course

NOTEBOOK_SUFFIX = notebooks.SUFFIX


def assignment_list(*, course: Course) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(course=course)
        .select_related("item")
        .order_by("item__due_at", "slug")
    )


@dataclass(frozen=True)
class RegradeProgress:
    total: int
    graded: int
    failed: int

    @property
    def done(self) -> int:
        return self.graded + self.failed

    @property
    def finished(self) -> bool:
        return self.done >= self.total


def regrade_progress(*, assignment: Assignment) -> RegradeProgress | None:
    """How far the last "grade every submission again" has come: a submission of the batch is
    done once a worker finished it after the regrade started (or it was superseded)."""
    if assignment.regrade_started_at is None:
        return None
    finished = Submission.objects.filter(
        pk__in=assignment.regrade_batch, state_changed_at__gte=assignment.regrade_started_at
    ).aggregate(
        graded=Count("pk", filter=Q(state=SubmissionState.GRADED)),
        failed=Count("pk", filter=Q(state=SubmissionState.FAILED)),
    )
    return RegradeProgress(len(assignment.regrade_batch), finished["graded"], finished["failed"])


def submission_list(*, assignment: Assignment, student=None) -> QuerySet[Submission]:
    submissions = Submission.objects.filter(assignment=assignment).select_related("student")
    if student is not None:
        submissions = submissions.filter(student=student)
    return submissions.order_by("-created_at")


def latest_submissions(*, assignment: Assignment) -> list[Submission]:
    """Each student's newest submission: what "grade everything again" grades."""
    return newest_submissions(submissions=assignment.submissions.all())


def is_newest_graded(*, submission: Submission) -> bool:
    """Whether ``submission`` is its student's newest graded one: the one the gradebook holds,
    whatever finishes last."""
    newest = (
        Submission.objects.filter(
            assignment=submission.assignment_id,
            student=submission.student_id,
            state=SubmissionState.GRADED,
        )
        .order_by("-number")
        .values_list("pk", flat=True)
        .first()
    )
    return newest == submission.pk


@dataclass(frozen=True)
class Allowance:
    used: int
    limit: int | None
    next_at: datetime.datetime | None  # when the cooldown ends, if it has not

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)


def submission_allowance(*, assignment: Assignment, student, now=None) -> Allowance:
    """How many submissions the student used of the assignment's limit, and when the cooldown
    after the last one ends."""
    now = now or timezone.now()
    mine = Submission.objects.filter(assignment=assignment, student=student)
    last = mine.aggregate(last=Max("created_at"))["last"]
    next_at = None
    if last and assignment.cooldown_seconds:
        next_at = last + datetime.timedelta(seconds=assignment.cooldown_seconds)
        next_at = next_at if next_at > now else None
    return Allowance(mine.count(), assignment.max_submissions, next_at)


def expected_files(*, assignment: Assignment) -> list[str]:
    """The file names a submission must hold (of several notebooks: may)."""
    if assignment.kind == AssignmentKind.PYTHON:
        return list(harness_spec(assignment=assignment).files)
    return notebook_names(assignment)


def harness_spec(*, assignment: Assignment) -> harness.HarnessSpec:
    spec = assignment.files.get(role=FileRole.SOURCE, name=harness.SPEC_NAME)
    return harness.parse(blobs.get(spec.sha256))


def assignment_file(
    *, assignment: Assignment, role: FileRole, name: str | None = None
) -> tuple[str, bytes]:
    """The assignment's file of ``role`` (named ``name``, when it has several of that role)."""
    found = assignment.files.filter(role=role)
    found = found.get(name=name) if name is not None else found.get()
    return found.name, blobs.get(found.sha256)


def assignment_files(*, assignment: Assignment, role: FileRole) -> dict[str, bytes]:
    """The assignment's files of ``role``, by name."""
    return {f.name: blobs.get(f.sha256) for f in assignment.files.filter(role=role)}


def assignment_file_names(*, assignment: Assignment, role: FileRole) -> list[str]:
    return list(assignment.files.filter(role=role).values_list("name", flat=True))


def submission_files(*, submission: Submission) -> dict[str, bytes]:
    """What the submission holds, by file name."""
    return {f.name: blobs.get(f.sha256) for f in submission.files.all()}


def manual_points(*, submission: Submission) -> dict[str, Decimal]:
    """The hand grades given to the submission, by cell."""
    return dict(submission.manual_grades.values_list("grade_id", "points"))


def run_results_json(*, submission: Submission, run: GradingRun) -> dict:
    """A stored grading as Gradescope's ``results.json``, hand grades included."""
    return gradescope_results(
        run.tests,
        manual=manual_points(submission=submission),
        execution_time=run.duration_seconds or 0,
        output="\n".join(run.notes),
    )


def latest_run(*, submission: Submission) -> GradingRun | None:
    return submission.runs.filter(error="").order_by("-started_at", "-pk").first()


def grading_failure(*, submission: Submission) -> GradingRun | None:
    """The failed grading a submission not (yet) graded again is left with: its newest run, when
    that is a failure of grading itself (a retry pending, or failed for staff to look at)."""
    if submission.state == SubmissionState.GRADED:
        return None
    newest = submission.runs.order_by("-started_at", "-pk").first()
    return newest if newest is not None and newest.error else None


def feedback(*, submission: Submission, run: GradingRun | None) -> list[dict]:
    """The run's tests as the student sees them, with hand grades and comments filled in."""
    if run is None:
        return []
    manual = {g.grade_id: g for g in submission.manual_grades.all()}
    rows = []
    for test in run.tests:
        row = dict(test)
        if test["status"] == "manual":
            grade = manual.get(test["name"])
            row["score"] = None if grade is None else str(grade.points.normalize())
            row["output"] = grade.comment if grade else ""
        rows.append(row)
    return rows


def downloadable_files(*, assignment: Assignment):
    """What students may download: the student version and the data; never the source."""
    return assignment.files.filter(role__in=[FileRole.RELEASE, FileRole.DATA]).order_by(
        "role", "name"
    )


def downloadable_zip(*, assignment: Assignment) -> bytes:
    """Every downloadable file in one zip, in a folder named after the assignment (as nbgrader's
    ``release/ps1``): what a student unpacks, works in, and may zip again to submit."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in downloadable_files(assignment=assignment):
            archive.writestr(f"{assignment.slug}/{file.name}", blobs.get(file.sha256))
    return buffer.getvalue()


@dataclass(frozen=True)
class ManualCell:
    submission: Submission
    grade_id: str
    max_points: str
    answer: str
    grade: ManualGrade | None


def manual_grading_queue(*, assignment: Assignment) -> list[ManualCell]:
    """Every hand-graded cell of each student's latest graded submission, ungraded first."""
    latest = _latest_graded(
        Submission.objects.filter(assignment=assignment).select_related("student")
    )
    runs = _latest_runs(latest)
    grades = _manual_grades(runs)
    cells = []
    for submission in latest:
        run = runs.get(submission.pk)
        if run is None:
            continue
        answers = _answers(run)
        for test in run.tests:
            if test["status"] == "manual":
                cells.append(
                    ManualCell(
                        submission,
                        test["name"],
                        test["max_score"],
                        answers.get(test["name"], "(the answer cell is missing)"),
                        grades.get((submission.pk, test["name"])),
                    )
                )
    return sorted(cells, key=lambda c: (c.grade is not None, c.submission.student.username))


def _latest_graded(submissions: QuerySet[Submission]) -> list[Submission]:
    """Of ``submissions``, each student's latest graded one per assignment."""
    return newest_submissions(submissions=submissions.filter(state=SubmissionState.GRADED))


def _latest_runs(submissions: list[Submission]) -> dict[int, GradingRun]:
    """Each submission's latest successful run, as ``latest_run`` picks it, in one query."""
    runs: dict[int, GradingRun] = {}
    found = GradingRun.objects.filter(submission__in=submissions, error="").defer("log")
    for run in found.order_by("started_at", "pk"):
        runs[run.submission_id] = run
    return runs


def _manual_grades(runs: dict[int, GradingRun]) -> dict[tuple[int, str], ManualGrade]:
    """The hand grades given to those submissions, by (submission id, cell)."""
    found = ManualGrade.objects.filter(submission_id__in=runs)
    return {(g.submission_id, g.grade_id): g for g in found}


def _answers(run: GradingRun) -> dict[str, str]:
    """Each graded cell's source as it ran, by the name of its test in the run."""
    answers = {}
    for name, sha256 in executed_notebooks(run).items():
        notebook = notebooks.read(blobs.get(sha256), name="the executed notebook")
        answers |= {
            _test_name(run, name, gid): c.source
            for c in notebook.cells
            if (gid := notebooks.grade_id(c))
        }
    return answers


def executed_notebooks(run: GradingRun) -> dict[str, str]:
    """The notebooks a run kept, by file name (the one notebook of a single-notebook assignment
    has the name ""): their sha256."""
    if run.executed_notebooks:
        return dict(run.executed_notebooks)
    return {"": run.executed_sha256} if run.executed_sha256 else {}


def _test_name(run: GradingRun, notebook: str, gid: str) -> str:
    return notebooks.test_name(notebook, gid) if run.executed_notebooks else gid


def notebook_names(assignment: Assignment) -> list[str]:
    """The notebooks of a notebook assignment, in order: one, or several (nbgrader's ``ps1``)."""
    released = assignment.files.filter(role=FileRole.RELEASE, name__endswith=NOTEBOOK_SUFFIX)
    return sorted(released.values_list("name", flat=True))


def notebooks_left_out(*, submission: Submission) -> list[str]:
    """The notebooks of an assignment of several that ``submission`` does not hold: each scores
    0 in every cell, as in nbgrader."""
    names = notebook_names(submission.assignment)
    if submission.assignment.kind != AssignmentKind.NOTEBOOK or len(names) < 2:
        return []
    held = set(submission.files.values_list("name", flat=True))
    return [name for name in names if name not in held]


def hand_grading_waiting(*, course: Course) -> list[tuple[Assignment, int]]:
    """Each assignment with hand-graded cells still without points in its students' latest
    graded submissions (what ``manual_grading_queue`` lists), in four queries for the course."""
    latest = _latest_graded(
        Submission.objects.filter(assignment__course=course).only("assignment", "student", "number")
    )
    runs = _latest_runs(latest)
    graded = _manual_grades(runs)
    waiting: Counter[int] = Counter()
    for submission in latest:
        run = runs.get(submission.pk)
        for test in run.tests if run else []:
            if test["status"] == "manual" and (submission.pk, test["name"]) not in graded:
                waiting[submission.assignment_id] += 1
    assignments = Assignment.objects.filter(pk__in=waiting).order_by("item__due_at", "slug")
    return [(a, waiting[a.pk]) for a in assignments]


@dataclass(frozen=True)
class WrittenPrompt:
    question: str  # the markdown cell just above the answer cell, as the student read it
    scheme: str  # the answer cell's mark scheme, for staff only


MARK_SCHEME = ("=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ===")


def written_prompts(*, assignment: Assignment) -> dict[str, WrittenPrompt]:
    """For each written-answer cell of the source notebooks: its question and mark scheme, by
    the name of its test (``problem1/part-a`` in an assignment of several notebooks)."""
    sources = list(assignment.files.filter(role=FileRole.SOURCE, name__endswith=NOTEBOOK_SUFFIX))
    prompts = {}
    for source in sources:
        cells = notebooks.read(blobs.get(source.sha256), name=source.name).cells
        for gid, prompt in _prompts(cells).items():
            prompts[notebooks.test_name(source.name, gid) if len(sources) > 1 else gid] = prompt
    return prompts


def _prompts(cells: list) -> dict[str, WrittenPrompt]:
    prompts = {}
    for index, cell in enumerate(cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "markdown" or not (meta.get("grade") and meta.get("solution")):
            continue
        above = cells[index - 1] if index else None
        question = above.source if above is not None and above.cell_type == "markdown" else ""
        begin, end = MARK_SCHEME
        scheme = ""
        if begin in cell.source:
            scheme = cell.source.split(begin, 1)[1].split(end, 1)[0].strip()
        prompts[notebooks.grade_id(cell)] = WrittenPrompt(question.strip(), scheme)
    return prompts


def newest_submissions(*, submissions: QuerySet[Submission]) -> list[Submission]:
    """Of ``submissions``, each student's newest (highest number) per assignment, in one query:
    the submission that counts. Filter ``submissions`` by state first for the newest graded."""
    newest: dict[tuple[int, int], Submission] = {}
    for submission in submissions.order_by("number"):
        newest[(submission.assignment_id, submission.student_id)] = submission
    return list(newest.values())
