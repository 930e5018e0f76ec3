"""Writing quizzes: create one with its graded item, add questions (their keys checked), and keep a
quiz in git as a YAML file (``quiz_import`` / ``quiz_export``)::

    slug: week1
    title: "Quiz 1: introduction to deep learning"
    lecture: 1                     # the lecture's number
    item: "Quiz 1"                 # optional: an existing item of the Quizzes component
    points: 10                     # a new item's points, if there is no item
    opens_at: 2026-09-07T10:00:00Z
    closes_at: 2026-09-07T10:30:00Z
    time_limit_minutes: 10
    attempts: 1
    combine: highest               # or last
    shuffle_questions: true
    shuffle_choices: true
    review: after_close            # never | after_submit | after_close
    pools:
      - {name: concepts, draw: 3}  # each attempt draws 3 of the pool's questions
    questions:
      - slug: gd-update
        kind: formula              # single multiple true_false numeric short_text formula free_text
        points: 2
        pool: concepts             # optional
        prompt: "Write the gradient-descent update of $\\theta$."
        key: {answer: "theta - eta*dR/dtheta", symbols: [theta, eta, dR, dtheta]}
        # symbols may say where each lives: {theta: real, eta: positive, n: natural,
        # p: {min: 0, max: 1}} (see courseapp.quizzes.formula)
        explanation: "..."

Keys by kind are in ``courseapp.quizzes.scoring``; what a file may hold, and its bounds, in
``courseapp.quizzes.quiz_file``. Importing a quiz that students have already started is refused:
change its keys through the regrade preview instead.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from courseapp.courses.models import Course, Lecture
from courseapp.courses.timezones import course_zone
from courseapp.quizzes import scoring
from courseapp.quizzes.models import Kind, Pool, Question, Quiz
from courseapp.quizzes.quiz_file import QuizSpec, points_value, quiz_read
from grading.models import GradedItem, ItemKind
from grading.services.items import graded_item_create

__all__ = ["question_create", "question_points", "quiz_export", "quiz_import"]


def question_create(
    *,
    quiz: Quiz,
    slug: str,
    kind: str,
    prompt: str,
    points,
    choices=None,
    key=None,
    pool: Pool | None = None,
    position: int = 0,
    explanation: str = "",
) -> Question:
    """A question with its key checked (outside any transaction: a formula key goes to the
    judge)."""
    if kind not in Kind.values:
        raise ValidationError(f"Question {slug}: kind must be one of {', '.join(Kind.values)}.")
    choices = list(choices or [])
    try:
        checked = scoring.key_validate(kind, key or {}, choices)
    except ValidationError as exc:
        raise ValidationError(f"Question {slug}: {' '.join(exc.messages)}") from exc
    question = Question(
        quiz=quiz,
        slug=slug,
        kind=kind,
        prompt=prompt,
        points=question_points(points, slug),
        choices=choices,
        key=checked,
        pool=pool,
        position=position,
        explanation=explanation,
    )
    question.full_clean()
    question.save()
    return question


def question_points(value, slug: str) -> Decimal:
    """``value`` as a question's points (0 to 1,000, at most 3 decimals); ValidationError naming
    the question."""
    return points_value(value, f"Question {slug}: points")


def quiz_import(*, course: Course, text: str | bytes) -> Quiz:
    """Create the quiz a YAML text describes, or replace one of the same slug that no student has
    started; ValidationError naming the first problem. The whole file is checked first, outside
    any transaction; then it is written in one."""
    spec = quiz_read(text)
    with transaction.atomic():
        return _quiz_write(course, spec)


def _quiz_write(course: Course, spec: QuizSpec) -> Quiz:
    lecture = Lecture.objects.filter(course=course, number=spec.lecture).first()
    if lecture is None:
        raise ValidationError(f"{course.code} has no lecture number {spec.lecture}.")
    existing = Quiz.objects.select_for_update().filter(course=course, slug=spec.slug).first()
    item = None
    if existing is not None:
        if existing.attempts.exists():
            raise ValidationError(
                f"Students have started {existing.title}; change its keys or points on the "
                "regrade page, which shows every score that would change."
            )
        item = existing.item
        existing.delete()
    quiz = Quiz(course=course, slug=spec.slug, lecture=lecture, title=spec.title, **spec.fields)
    quiz.item = item or _item(course, spec)
    quiz.full_clean()
    quiz.save()
    pools = {
        name: Pool.objects.create(quiz=quiz, name=name, draw=draw, position=position)
        for position, (name, draw) in enumerate(spec.pools)
    }
    Question.objects.bulk_create(
        Question(
            quiz=quiz,
            slug=q.slug,
            kind=q.kind,
            prompt=q.prompt,
            points=q.points,
            choices=q.choices,
            key=q.key,
            pool=pools.get(q.pool),
            position=q.position,
            explanation=q.explanation,
        )
        for q in spec.questions
    )
    return quiz


def _item(course: Course, spec: QuizSpec) -> GradedItem:
    if spec.item:
        item = GradedItem.objects.filter(course=course, name=spec.item).first()
        if item is None:
            raise ValidationError(f"{course.code} has no graded item {spec.item!r}.")
        if hasattr(item, "quiz"):
            raise ValidationError(f"{spec.item} already belongs to the quiz {item.quiz.title}.")
        return item
    return graded_item_create(
        course=course,
        component="Quizzes",
        name=spec.title,
        kind=ItemKind.QUIZ,
        max_points=spec.points,
    )


def _in_course_zone(moment: datetime.datetime, quiz: Quiz) -> str:
    """``2026-09-07T10:00:00+03:00``: the course's wall clock, with the offset that fixes it."""
    return moment.astimezone(course_zone(quiz.course)).isoformat()


def quiz_export(*, quiz: Quiz) -> str:
    """The quiz as YAML that ``quiz_import`` reads back to the same quiz."""
    data = {
        "slug": quiz.slug,
        "title": quiz.title,
        "lecture": quiz.lecture.number,
        "item": quiz.item.name,
        "opens_at": _in_course_zone(quiz.opens_at, quiz),
        "closes_at": _in_course_zone(quiz.closes_at, quiz),
        "time_limit_minutes": quiz.time_limit.total_seconds() / 60,
        "attempts": quiz.attempts_allowed,
        "combine": quiz.combine,
        "shuffle_questions": quiz.shuffle_questions,
        "shuffle_choices": quiz.shuffle_choices,
        "review": quiz.review,
        "pools": [{"name": p.name, "draw": p.draw} for p in quiz.pools.all()],
        "questions": [_question_data(q) for q in quiz.questions.select_related("pool")],
    }
    if not data["pools"]:
        del data["pools"]

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data) -> bool:
            return True  # the import refuses anchors and aliases: write every value out

    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)


def _question_data(question: Question) -> dict:
    data = {"slug": question.slug, "kind": question.kind, "points": _plain(question.points)}
    if question.pool is not None:
        data["pool"] = question.pool.name
    data["prompt"] = question.prompt
    if question.choices:
        data["choices"] = question.choices
    data["key"] = question.key
    if question.explanation:
        data["explanation"] = question.explanation
    return data


def _plain(points: Decimal) -> int | float:
    return int(points) if points == points.to_integral_value() else float(points)
