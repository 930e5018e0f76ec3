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
        explanation: "..."

Keys by kind are in ``courseapp.quizzes.scoring``. Importing a quiz that students have already
started is refused: change its keys through the regrade preview instead.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from courseapp.courses.models import Course, Lecture
from courseapp.courses.timezones import course_zone
from courseapp.quizzes import scoring
from courseapp.quizzes.models import Combine, Kind, Pool, Question, Quiz, Review
from grading.models import GradedItem, ItemKind
from grading.services.items import graded_item_create

QUIZ_KEYS = {
    "slug", "title", "lecture", "item", "points", "opens_at", "closes_at", "time_limit_minutes",
    "attempts", "combine", "shuffle_questions", "shuffle_choices", "review", "pools", "questions",
}  # fmt: skip
QUESTION_KEYS = {"slug", "kind", "points", "pool", "prompt", "choices", "key", "explanation"}
MAX_YAML_BYTES = 1 << 20


def question_create(
    *, quiz: Quiz, slug: str, kind: str, prompt: str, points, choices=None, key=None,
    pool: Pool | None = None, position: int = 0, explanation: str = "",
) -> Question:  # fmt: skip
    if kind not in Kind.values:
        raise ValidationError(f"Question {slug}: kind must be one of {', '.join(Kind.values)}.")
    choices = list(choices or [])
    try:
        checked = scoring.key_validate(kind, key or {}, choices)
    except ValidationError as exc:
        raise ValidationError(f"Question {slug}: {' '.join(exc.messages)}") from exc
    question = Question(
        quiz=quiz, slug=slug, kind=kind, prompt=prompt, points=question_points(points, slug),
        choices=choices, key=checked, pool=pool, position=position, explanation=explanation,
    )  # fmt: skip
    question.full_clean()
    question.save()
    return question


def question_points(value, slug: str) -> Decimal:
    """``value`` as a question's points (a number >= 0); ValidationError naming the question."""
    try:
        points = Decimal(str(value))
    except InvalidOperation:
        points = Decimal(-1)
    if not points.is_finite() or points < 0:
        raise ValidationError(f"Question {slug}: points must be a number >= 0.")
    return points


@transaction.atomic
def quiz_import(*, course: Course, text: str | bytes) -> Quiz:
    """Create the quiz a YAML text describes, or replace one of the same slug that no student has
    started; ValidationError naming the first problem."""
    data = _yaml(text)
    slug = str(data.get("slug", "")).strip()
    existing = Quiz.objects.filter(course=course, slug=slug).first()
    if existing is not None:
        if existing.attempts.exists():
            raise ValidationError(
                f"Students have started {existing.title}; change its keys or points on the "
                "regrade page, which shows every score that would change."
            )
        item = existing.item
        existing.delete()
    else:
        item = None
    quiz = Quiz(course=course, slug=slug, **_quiz_fields(course, data))
    quiz.item = item or _item(course, data, quiz.title)
    quiz.full_clean()
    quiz.save()
    pools = {}
    for position, entry in enumerate(data.get("pools") or []):
        if not isinstance(entry, dict) or set(entry) - {"name", "draw"}:
            raise ValidationError(f"Pool {position + 1}: give name and draw only.")
        if entry.get("name") in pools:
            raise ValidationError(f"Two pools are called {entry.get('name')!r}.")
        pools[entry.get("name")] = Pool.objects.create(
            quiz=quiz, name=str(entry.get("name")), draw=_count(entry.get("draw"), "draw"),
            position=position,
        )  # fmt: skip
    for position, entry in enumerate(data.get("questions") or []):
        _question_from(quiz, entry, position, pools)
    if not quiz.questions.exists():
        raise ValidationError("A quiz needs at least one question.")
    for name, pool in pools.items():
        if pool.questions.count() < pool.draw:
            raise ValidationError(f"Pool {name} draws {pool.draw} but holds fewer questions.")
    return quiz


def _yaml(text: str | bytes) -> dict:
    import yaml

    if isinstance(text, bytes):
        if len(text) > MAX_YAML_BYTES:
            raise ValidationError("The quiz file is larger than 1 MB.")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError("The quiz file is not UTF-8 text.") from exc
    try:
        data = yaml.safe_load(text)  # safe_load: tags that build Python objects are refused
    except yaml.YAMLError as exc:
        raise ValidationError(f"The quiz file is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError("The quiz file must be a mapping (slug:, title:, questions: ...).")
    unknown = set(data) - QUIZ_KEYS
    if unknown:
        raise ValidationError(f"Unknown keys in the quiz file: {', '.join(sorted(unknown))}.")
    return data


def _quiz_fields(course: Course, data: dict) -> dict:
    lecture = Lecture.objects.filter(course=course, number=data.get("lecture")).first()
    if lecture is None:
        raise ValidationError(f"{course.code} has no lecture number {data.get('lecture')!r}.")
    fields = {
        "lecture": lecture, "title": str(data.get("title", "")).strip(),
        "opens_at": _moment(data.get("opens_at"), "opens_at"),
        "closes_at": _moment(data.get("closes_at"), "closes_at"),
        "time_limit": datetime.timedelta(minutes=_minutes(data.get("time_limit_minutes", 10))),
        "attempts_allowed": _count(data.get("attempts", 1), "attempts"),
        "combine": data.get("combine", Combine.HIGHEST),
        "shuffle_questions": _flag(data, "shuffle_questions"),
        "shuffle_choices": _flag(data, "shuffle_choices"),
        "review": data.get("review", Review.AFTER_CLOSE),
    }  # fmt: skip
    if fields["closes_at"] <= fields["opens_at"]:
        raise ValidationError("closes_at must be after opens_at.")
    if not datetime.timedelta(minutes=1) <= fields["time_limit"] <= datetime.timedelta(hours=6):
        raise ValidationError("time_limit_minutes must be from 1 to 360.")
    return fields


def _minutes(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("time_limit_minutes must be a number of minutes.")
    return float(value)


def _flag(data: dict, name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be true or false.")
    return value


def _moment(value, name: str) -> datetime.datetime:
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        raise ValidationError(f"{name} must be a date and time with its zone (2026-09-07T10:00Z).")
    return value


def _count(value, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise ValidationError(f"{name} must be a whole number from 1 to 100.")
    return value


def _item(course: Course, data: dict, title: str) -> GradedItem:
    name = data.get("item")
    if name:
        item = GradedItem.objects.filter(course=course, name=name).first()
        if item is None:
            raise ValidationError(f"{course.code} has no graded item {name!r}.")
        if hasattr(item, "quiz"):
            raise ValidationError(f"{name} already belongs to the quiz {item.quiz.title}.")
        return item
    return graded_item_create(
        course=course, component="Quizzes", name=title, kind=ItemKind.QUIZ,
        max_points=data.get("points", 10),
    )  # fmt: skip


def _question_from(quiz: Quiz, entry, position: int, pools: dict) -> Question:
    if not isinstance(entry, dict):
        raise ValidationError(f"Question {position + 1} is not a mapping.")
    slug = str(entry.get("slug", f"q{position + 1}"))
    unknown = set(entry) - QUESTION_KEYS
    if unknown:
        raise ValidationError(f"Question {slug}: unknown keys {', '.join(sorted(unknown))}.")
    pool = None
    if entry.get("pool") is not None:
        pool = pools.get(entry["pool"])
        if pool is None:
            raise ValidationError(f"Question {slug}: there is no pool {entry['pool']!r}.")
    return question_create(
        quiz=quiz, slug=slug, kind=entry.get("kind", ""), prompt=str(entry.get("prompt", "")),
        points=entry.get("points", 1), choices=entry.get("choices"), key=entry.get("key"),
        pool=pool, position=position, explanation=str(entry.get("explanation", "")),
    )  # fmt: skip


def _in_course_zone(moment: datetime.datetime, quiz: Quiz) -> str:
    """``2026-09-07T10:00:00+03:00``: the course's wall clock, with the offset that fixes it."""
    return moment.astimezone(course_zone(quiz.course)).isoformat()


def quiz_export(*, quiz: Quiz) -> str:
    """The quiz as YAML that ``quiz_import`` reads back to the same quiz."""
    import yaml

    data = {
        "slug": quiz.slug, "title": quiz.title, "lecture": quiz.lecture.number,
        "item": quiz.item.name, "opens_at": _in_course_zone(quiz.opens_at, quiz),
        "closes_at": _in_course_zone(quiz.closes_at, quiz),
        "time_limit_minutes": quiz.time_limit.total_seconds() / 60,
        "attempts": quiz.attempts_allowed, "combine": quiz.combine,
        "shuffle_questions": quiz.shuffle_questions, "shuffle_choices": quiz.shuffle_choices,
        "review": quiz.review,
        "pools": [{"name": p.name, "draw": p.draw} for p in quiz.pools.all()],
        "questions": [_question_data(q) for q in quiz.questions.select_related("pool")],
    }  # fmt: skip
    if not data["pools"]:
        del data["pools"]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


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
