"""The demo course from the PMLDL week-1 slides: people, teams, lectures and the grading scheme.

It sits above the course, grading and autograder code and calls their services. Running it again
creates nothing new and changes nothing that exists.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from courseapp.courses import services as course_services
from courseapp.courses.models import Course, Enrollment, Lecture, Role, Team
from courseapp.quizzes.kinds import kind_of
from grading import selectors as grading_selectors
from grading.models import GradedItem, ItemKind
from grading.services.items import graded_item_create
from grading.services.schemes import grading_scheme_create
from grading.services.scores import graded_item_update

DEMO_PASSWORD = "pmldl-demo"
COURSE = {
    "code": "pmldl",
    "title": "Practical Machine Learning and Deep Learning",
    "term": "Fall 2026",
    "timezone": "Europe/Moscow",
}
ADMIN = ("admin", "Site", "Admin")
INSTRUCTOR = ("instructor", "Vladimir", "Ivanov")
TA = ("ta", "Youssef", "Ibrahim")
STUDENT_NAMES = [
    ("Alina", "Sokolova"),
    ("Bogdan", "Kuznetsov"),
    ("Chen", "Wei"),
    ("Daria", "Morozova"),
    ("Emil", "Hasanov"),
    ("Farida", "Nurieva"),
    ("Gleb", "Orlov"),
    ("Hana", "Kim"),
    ("Ilya", "Popov"),
    ("Jamila", "Saidova"),
    ("Kirill", "Volkov"),
    ("Leyla", "Aliyeva"),
    ("Maxim", "Lebedev"),
    ("Nadia", "Fedorova"),
    ("Oleg", "Smirnov"),
    ("Polina", "Egorova"),
    ("Ruslan", "Galiev"),
    ("Sofia", "Pavlova"),
    ("Timur", "Zakirov"),
    ("Ulyana", "Belova"),
]
# The syllabus slide, one lecture a week from the first week of term.
SYLLABUS = [
    "Review: definitions, training deep neural networks",
    "Convolutional neural networks",
    "RBMs and deep belief networks",
    "RNNs: LSTM, attention, transformers",
    "Graph networks: graph convolution networks",
    "GANs and Bayesian deep learning",
    "Software tools for ML/DL",
    "Data science teams: processes and roles",
]
FIRST_LECTURE = datetime.date(2026, 9, 1)
TEAM_NAMES = ["Backprop", "Dropout", "Attention", "Residual"]
# The assessment slide: points per component and letters by total points (lower bounds).
COMPONENTS = [
    {"name": "Quizzes", "points": "10"},
    {"name": "Assignments", "points": "30"},
    {"name": "Midterm", "points": "20"},
    {"name": "Final project", "points": "30"},
    {"name": "Final exam", "points": "20"},
]
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
# Graded items: (component, name, kind, max points, due week or None, options).
ITEMS = [
    *[("Quizzes", f"Quiz {n}", ItemKind.QUIZ, 10, n, {"published": n <= 2}) for n in range(1, 9)],
    ("Assignments", "A1: neural network basics", ItemKind.ASSIGNMENT, 10, 2, {}),
    ("Assignments", "A2: training deep networks", ItemKind.ASSIGNMENT, 10, 4, {}),
    ("Assignments", "A3: reusing pretrained layers", ItemKind.ASSIGNMENT, 10, 6, {}),
    ("Midterm", "Midterm theory", ItemKind.EXAM_PART, 10, None, {}),
    ("Midterm", "Midterm practice", ItemKind.EXAM_PART, 10, None, {}),
    ("Final project", "Final project", ItemKind.PROJECT, 100, None, {"team_graded": True}),
    ("Final exam", "Final exam theory", ItemKind.EXAM_PART, 10, None, {}),
    ("Final exam", "Final exam practice", ItemKind.EXAM_PART, 10, None, {}),
]
# Students who have already taken the week-1 quiz when the demo starts (the rest are asked to on
# their home page); the TA has graded their written answers, so nothing waits for staff. Nothing
# else is scored: every other item is work still to come (A1-A3 are due after the seeding, the
# exams and the project later).
QUIZ_TAKERS = range(11, 21)
# The week-1 quiz's answers, right and wrong, by question slug.
WEEK1_ANSWERS = {
    "relu-property": (0, 1),
    "sigmoid-slope": ("0.25", "0.5"),
    "gd-update": ("theta - eta*dR/dtheta", "theta + eta*dR/dtheta"),
    "batchnorm": ([0, 1, 2], [0, 3]),
    "bias-correction-adam": (0, 2),
    "bias-correction-true-false": (True, False),
    "dropout-prevents": ("overfitting", "underfitting"),
    "limitation": (
        "Deep networks need a lot of labelled data; where labels are scarce they overfit.",
        "They are slow.",
    ),
}
LETTER_CUTOFFS = [
    {"letter": "A", "min_points": "90"},
    {"letter": "B", "min_points": "76"},
    {"letter": "C", "min_points": "60"},
    {"letter": "D", "min_points": "0"},
]


@dataclass
class DemoReport:
    course: Course | None = None
    created: list[str] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (username, role)
    # Told each step before it starts: seeding takes a while (it imports three assignments and
    # grades half the class's quiz), and a silent command looks stuck.
    say: Callable[[str], None] = lambda line: None


@functools.cache
def _demo_password_hash() -> str:
    """One hash for every demo account: they share a published password, and hashing it once
    per account (the slow hash on purpose, ~0.5 s each) was half of the seeding's time."""
    return make_password(DEMO_PASSWORD)


def _user(username: str, first: str, last: str, report: DemoReport, *, superuser: bool = False):
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, first_name=first, last_name=last)
        user.is_staff = user.is_superuser = superuser
        user.email = f"{username}@pmldl.example.org"
        user.password = _demo_password_hash()
        user.save()
        report.created.append(f"user {username}")
    return user


def _admin(report: DemoReport) -> None:
    """A superuser for the Django admin; course staff do their work on the site, not there."""
    user = _user(*ADMIN, report, superuser=True)
    report.logins.append((user.username, "Site admin (Django admin)"))


def _enroll(course: Course, user, role: Role, report: DemoReport) -> Enrollment:
    enrollment = Enrollment.objects.filter(course=course, user=user).first()
    if enrollment is None:
        enrollment = course_services.enrollment_create(course=course, user=user, role=role)
        report.created.append(f"enrollment {user.username} as {role.value}")
    report.logins.append((user.username, role.label))
    return enrollment


def _course(report: DemoReport) -> Course:
    course = Course.objects.filter(code=COURSE["code"]).first()
    if course is None:
        course = course_services.course_create(**COURSE)
        report.created.append(f"course {course.code}")
    return course


def _lectures(course: Course, report: DemoReport) -> None:
    existing = set(Lecture.objects.filter(course=course).values_list("number", flat=True))
    for number, title in enumerate(SYLLABUS, start=1):
        if number not in existing:
            date = FIRST_LECTURE + datetime.timedelta(weeks=number - 1)
            course_services.lecture_create(course=course, number=number, title=title, date=date)
            report.created.append(f"lecture {number}")


def _teams(course: Course, students: list[Enrollment], report: DemoReport) -> None:
    size = len(students) // len(TEAM_NAMES)
    for index, name in enumerate(TEAM_NAMES):
        if Team.objects.filter(course=course, name=name).exists():
            continue
        members = [
            s
            for s in students[index * size : (index + 1) * size]
            if not hasattr(s, "team_membership")
        ]
        course_services.team_create(course=course, name=name, members=members)
        report.created.append(f"team {name}")


def _grading_scheme(course: Course, report: DemoReport) -> None:
    if grading_selectors.grading_scheme_current(course=course) is None:
        grading_scheme_create(
            course=course,
            components=COMPONENTS,
            letter_cutoffs=LETTER_CUTOFFS,
            note="From the slides",
        )
        report.created.append("grading scheme")


def _due(week: int) -> datetime.datetime:
    """23:59 Moscow time on the day before the lecture of ``week`` + 1."""
    day = FIRST_LECTURE + datetime.timedelta(weeks=week, days=-1)
    return datetime.datetime.combine(day, datetime.time(23, 59), tzinfo=MOSCOW)


def _assignment_due(week: int) -> datetime.datetime:
    """The syllabus date while it is ahead; for a demo seeded after it, ``week // 2`` weeks from
    the seeding (A1 in one, A2 in two, A3 in three), so that a newcomer's submission is on time
    and its score counts in the gradebook."""
    from django.utils import timezone

    due = _due(week)
    today = timezone.now().astimezone(MOSCOW).date()
    if due.date() > today:
        return due
    day = today + datetime.timedelta(weeks=week // 2)
    return datetime.datetime.combine(day, datetime.time(23, 59), tzinfo=MOSCOW)


def _items(course: Course, report: DemoReport) -> None:
    existing = set(GradedItem.objects.filter(course=course).values_list("name", flat=True))
    for position, (component, name, kind, points, week, extra) in enumerate(ITEMS):
        if name not in existing:
            due = _due(week) if week else None
            if week and kind == ItemKind.ASSIGNMENT:
                due = _assignment_due(week)
            graded_item_create(
                course=course,
                component=component,
                name=name,
                kind=kind,
                max_points=points,
                due_at=due,
                position=position,
                **extra,
            )
            report.created.append(f"item {name}")


def _knows(username: str, question: str) -> bool:
    """Stable, varied demo answers: right about three times in four, the same on every run."""
    return hashlib.sha256(f"{username}/{question}".encode()).digest()[0] < 192


def demo_seed(*, with_admin: bool = True, say: Callable[[str], None] | None = None) -> DemoReport:
    """``with_admin``: also a Django superuser ``admin`` with the demo password (never on a site
    seeded with --allow-production).

    The course is made in one transaction; the students' week-1 attempts come after it, as real
    attempts do: formula answers are judged outside any transaction. ``say`` is told each step."""
    report, ta, students = _course_seed(with_admin=with_admin, say=say or (lambda line: None))
    report.say("The week-1 quiz: half the class's attempts, their written answers graded")
    _quiz_attempts(report.course, students, ta, report)
    return report


@transaction.atomic
def _course_seed(
    *, with_admin: bool, say: Callable[[str], None]
) -> tuple[DemoReport, object, list[Enrollment]]:
    report = DemoReport(say=say)
    say("The course and its people (an instructor, a TA, 20 students)")
    course = report.course = _course(report)
    if with_admin:
        _admin(report)
    _enroll(course, _user(*INSTRUCTOR, report), Role.INSTRUCTOR, report)
    ta = _enroll(course, _user(*TA, report), Role.TA, report).user
    students = [
        _enroll(course, _user(f"student{n:02d}", first, last, report), Role.STUDENT, report)
        for n, (first, last) in enumerate(STUDENT_NAMES, start=1)
    ]
    say("Lectures, teams, the grading scheme and its items")
    _lectures(course, report)
    _teams(course, students, report)
    _grading_scheme(course, report)
    _items(course, report)
    _assignments(course, report)
    say("The week-1 quiz")
    _quizzes(course, report)
    return report, ta, students


QUIZZES = Path(__file__).with_name("quizzes")


def _quizzes(course: Course, report: DemoReport) -> None:
    """The week-1 quiz from its YAML file, open from an hour ago for a week, so that it can be
    tried as soon as the demo runs."""
    import yaml
    from django.utils import timezone

    from courseapp.quizzes.authoring import quiz_import
    from courseapp.quizzes.models import Quiz

    if Quiz.objects.filter(course=course, slug="week1").exists():
        return  # staff may have changed it, and students may have taken it: leave it
    data = yaml.safe_load((QUIZZES / "week1.yaml").read_text(encoding="utf-8"))
    now = timezone.now().replace(microsecond=0)
    data["opens_at"] = (now - datetime.timedelta(hours=1)).isoformat()
    data["closes_at"] = (now + datetime.timedelta(days=7)).isoformat()
    quiz = quiz_import(course=course, text=yaml.safe_dump(data))
    # The quiz keeps its own window; its item is shown as due when the quiz closes.
    graded_item_update(
        item=quiz.item,
        by=None,
        due_at=quiz.closes_at,
        reason="The week-1 quiz is due when it closes",
    )
    report.created.append("quiz week1")


def _quiz_attempts(course: Course, students: list[Enrollment], ta, report: DemoReport) -> None:
    """Half the class took the week-1 quiz in its first hour, through the quiz's own services, so
    every Quiz 1 score in the gradebook comes from an attempt the student made; the TA has graded
    their written answers."""
    from django.utils import timezone

    from courseapp.quizzes import attempts as quiz_attempts
    from courseapp.quizzes import services as quizzes
    from courseapp.quizzes.models import Attempt, Question, Quiz

    quiz = Quiz.objects.filter(course=course, slug="week1").first()
    now = timezone.now()
    if quiz is None or not quiz.opens_at < now < quiz.closes_at:
        return
    for enrollment in students:
        user, number = enrollment.user, int(enrollment.user.username[-2:])
        if number not in QUIZ_TAKERS or Attempt.objects.filter(quiz=quiz, student=user).exists():
            continue
        started = max(quiz.opens_at, now - datetime.timedelta(minutes=50 - number))
        attempt = quiz_attempts.attempt_start(quiz=quiz, student=user, now=started)
        questions = Question.objects.in_bulk(attempt.question_pks)
        for minute, pk in enumerate(attempt.question_pks, start=1):
            question = questions[pk]
            right, wrong = WEEK1_ANSWERS[question.slug]
            answer = right if _knows(user.username, question.slug) else wrong
            at = started + datetime.timedelta(minutes=minute)
            quiz_attempts.answer_save(attempt=attempt, question=question, value=answer, now=at)
        at = started + datetime.timedelta(minutes=len(questions) + 1)
        attempt = quiz_attempts.attempt_submit(attempt=attempt, now=at)
        report.created.append(f"quiz attempt {user.username}")
        for question in questions.values():
            if kind_of(question.kind).hand_graded:
                points = question.points if _knows(user.username, question.slug) else 1
                quizzes.answer_grade_set(
                    attempt=attempt,
                    question=question,
                    points=points,
                    by=ta,
                    feedback="A real limitation; say why it matters too.",
                )


ASSIGNMENTS = Path(__file__).with_name("assignments")
# folder → (slug, title, the graded item it scores)
AUTOGRADED = {
    "a1": ("a1", "A1: neural network basics", "A1: neural network basics"),
    "a2": ("a2", "A2: training deep networks", "A2: training deep networks"),
    "a3": ("a3", "A3: reusing pretrained layers", "A3: reusing pretrained layers"),
}


def _assignments(course: Course, report: DemoReport) -> None:
    """The course's autograded assignments, from their source folders (as import_assignment)."""
    from autograder.models import Assignment
    from autograder.services.assignments import assignment_import

    for folder, (slug, title, item) in AUTOGRADED.items():
        if Assignment.objects.filter(course=course, slug=slug).exists():
            continue  # staff may have imported a newer version: leave it
        report.say(f"Importing assignment {slug.upper()} from {folder}/")
        files = {
            f.name: f.read_bytes()
            for f in sorted((ASSIGNMENTS / folder).iterdir())
            if f.is_file() and not f.name.startswith((".", "__"))
        }
        assignment_import(course=course, slug=slug, files=files, title=title, item_name=item)
        report.created.append(f"assignment {slug}")
