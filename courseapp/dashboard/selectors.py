"""What each role sees first in a course: reads gathered from the course, grading, autograder and
quiz code. This module sits above all of them and is imported only by ``views``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from autograder import selectors as autograder_selectors
from autograder import workers
from autograder.models import Submission, SubmissionState
from courseapp.courses import selectors as course_selectors
from courseapp.courses.models import Course
from courseapp.quizzes import selectors as quiz_selectors
from courseapp.quizzes.kinds import hand_graded
from courseapp.quizzes.models import AnswerGrade, AttemptState, Quiz
from courseapp.quizzes.selectors import Window, quiz_window
from grading import selectors as grading_selectors

UPCOMING_DAYS = 14  # quizzes opening within this many days are listed as upcoming


@dataclass
class QuizRow:
    quiz: object
    state: Window
    minutes: float  # the student's own time, accommodation included
    open_attempt: object | None
    attempts: list
    submitted: bool  # at least one attempt was submitted
    counted: object | None  # the attempt whose score counts (quizzes.selectors.counted_attempt)
    points_shown: bool = False  # the quiz's review policy lets the student see it now


@dataclass
class AssignmentRow:
    assignment: object
    due_at: datetime.datetime | None
    extended: bool
    allowance: autograder_selectors.Allowance
    latest: Submission | None


@dataclass
class StudentDashboard:
    quizzes: list[QuizRow]
    assignments: list[AssignmentRow]
    grades: grading_selectors.StudentGrades | None
    regrades: list
    next_steps: list[str] = field(default_factory=list)


def student_dashboard(*, course: Course, student, now=None) -> StudentDashboard:
    now = now or timezone.now()
    accommodation = quiz_selectors.accommodation_of(course=course, student=student)
    quizzes = []
    for row in quiz_selectors.student_quiz_rows(course=course, student=student, now=now):
        quiz, state = row["quiz"], row["state"]
        if state == Window.UPCOMING and quiz.opens_at > now + datetime.timedelta(UPCOMING_DAYS):
            continue
        if state == Window.CLOSED and not row["attempts"]:
            continue
        limit = quiz_selectors.time_allowed(quiz, accommodation)
        submitted = [a for a in row["attempts"] if a.state == AttemptState.SUBMITTED]
        quizzes.append(
            QuizRow(
                quiz,
                row["state"],
                limit.total_seconds() / 60,
                row["open_attempt"],
                row["attempts"],
                bool(submitted),
                quiz_selectors.counted_attempt(quiz, submitted),
                quiz_selectors.points_visible(quiz, now=now),
            )
        )
    order = {Window.OPEN: 0, Window.UPCOMING: 1, Window.CLOSED: 2}
    quizzes.sort(key=lambda r: (order[r.state], r.quiz.closes_at))

    due_dates = grading_selectors.extension_due_dates(course=course, students=[student])
    extensions = due_dates[student.pk]
    mine = Submission.objects.filter(assignment__course=course, student=student)
    latest = {s.assignment_id: s for s in autograder_selectors.newest_submissions(submissions=mine)}
    assignments = []
    for assignment in autograder_selectors.assignment_list(course=course):
        due = grading_selectors.due_at_for(
            item=assignment.item, student=student, extensions=extensions
        )
        assignments.append(
            AssignmentRow(
                assignment,
                due,
                assignment.item_id in extensions,
                autograder_selectors.submission_allowance(
                    assignment=assignment, student=student, now=now
                ),
                latest.get(assignment.pk),
            )
        )
    assignments.sort(key=lambda r: (r.due_at is None, r.due_at or now))

    dashboard = StudentDashboard(
        quizzes,
        assignments,
        grading_selectors.student_grades(course=course, student=student),
        list(grading_selectors.regrade_request_list(course=course, student=student)),
    )
    dashboard.next_steps = _student_next_steps(dashboard, now)
    return dashboard


def _student_next_steps(dashboard: StudentDashboard, now) -> list[str]:
    steps = []
    for row in dashboard.quizzes:
        if row.open_attempt:
            steps.append(f"Finish your attempt at {row.quiz.title}.")
        elif row.state == Window.OPEN and not row.attempts:
            steps.append(f"Take {row.quiz.title} before it closes.")
    for row in dashboard.assignments:
        if row.latest is None and row.due_at and row.due_at > now:
            steps.append(f"Submit {row.assignment.title}.")
    return steps


@dataclass
class HandGrading:
    label: str
    waiting: int
    url_name: str
    slug: str


@dataclass
class StaffDashboard:
    pending: int  # submissions queued or running
    failed: list
    hand_grading: list[HandGrading]
    open_regrades: int
    workers: list[workers.WorkerState]
    queues: list[workers.QueueState]
    broker_error: str
    students: int
    has_scheme: bool
    unpublished_items: int
    quizzes: list = field(default_factory=list)  # open or upcoming: (quiz, state, open, submitted)
    to_do: int = 0


def staff_dashboard(*, course: Course) -> StaffDashboard:
    pending = Submission.objects.filter(
        assignment__course=course, state__in=[SubmissionState.QUEUED, SubmissionState.RUNNING]
    ).count()
    failed = list(
        Submission.objects.filter(assignment__course=course, state=SubmissionState.FAILED)
        .select_related("assignment", "student")
        .order_by("-state_changed_at")[:20]
    )
    hand = [
        HandGrading(a.title, n, "manual-grading", a.slug)
        for a, n in autograder_selectors.hand_grading_waiting(course=course)
    ]
    free_text = (
        AnswerGrade.objects.filter(
            attempt__quiz__course=course,
            attempt__state=AttemptState.SUBMITTED,
            question__kind__in=hand_graded(),
            points__isnull=True,
        )
        .values("attempt__quiz__slug", "attempt__quiz__title")
        .annotate(waiting=Count("pk"))
        .order_by("attempt__quiz__title")
    )
    hand += [
        HandGrading(
            row["attempt__quiz__title"],
            row["waiting"],
            "quiz-hand-grading",
            row["attempt__quiz__slug"],
        )
        for row in free_text
    ]
    states = workers.worker_states()
    queues, broker_error = workers.queue_states(workers=states)
    open_regrades = grading_selectors.regrade_requests_open(course=course)
    items = grading_selectors.graded_item_list(course=course)
    dashboard = StaffDashboard(
        pending=pending,
        failed=failed,
        hand_grading=hand,
        open_regrades=open_regrades.count(),
        workers=states,
        queues=queues,
        broker_error=broker_error,
        students=course_selectors.student_enrollments(course=course).count(),
        has_scheme=grading_selectors.grading_scheme_current(course=course) is not None,
        unpublished_items=sum(1 for i in items if not i.published),
    )
    dashboard.quizzes = _staff_quizzes(course)
    dashboard.to_do = len(failed) + sum(h.waiting for h in hand) + dashboard.open_regrades + pending
    return dashboard


def _staff_quizzes(course: Course, now=None) -> list[dict]:
    """Quizzes open now or opening within ``UPCOMING_DAYS``, with attempts in progress and
    students who submitted."""
    now = now or timezone.now()
    quizzes = (
        Quiz.objects.filter(
            course=course, closes_at__gt=now, opens_at__lt=now + datetime.timedelta(UPCOMING_DAYS)
        )
        .annotate(
            in_progress=Count("attempts", filter=Q(attempts__state=AttemptState.OPEN)),
            submitted=Count(
                "attempts__student", distinct=True, filter=Q(attempts__state=AttemptState.SUBMITTED)
            ),
        )
        .order_by("opens_at")
    )
    return [{"quiz": q, "state": quiz_window(q, now=now)} for q in quizzes]
