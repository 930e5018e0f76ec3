"""Reading a quiz's YAML file into a checked ``QuizSpec``, before anything is written.

The file is hostile input until checked. YAML anchors and aliases are refused outright (an alias
nested in ``choices`` once expanded 1 KB into millions of entries), and so are files over 1 MB,
nested deeper than ``MAX_DEPTH`` or holding more than ``MAX_NODES`` values; this is checked on the
parser's events, before any Python object is built. Then every field of the quiz, its pools and
every question of every kind is checked (types, ranges, lengths, unknown keys, duplicate slugs,
keys that name missing choices, tolerances, regular expressions, formulas), and the first
problem is reported naming the question and the field. A formula key is tried by the judge, so
this runs outside any transaction.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import yaml
from django.core.exceptions import ValidationError

from courseapp.quizzes import scoring
from courseapp.quizzes.models import Combine, Kind, Review

QUIZ_KEYS = {
    "slug",
    "title",
    "lecture",
    "item",
    "points",
    "opens_at",
    "closes_at",
    "time_limit_minutes",
    "attempts",
    "combine",
    "shuffle_questions",
    "shuffle_choices",
    "review",
    "pools",
    "questions",
}
QUESTION_KEYS = {"slug", "kind", "points", "pool", "prompt", "choices", "key", "explanation"}
MAX_YAML_BYTES = 1 << 20
MAX_DEPTH = 8
MAX_NODES = 20_000
MAX_QUESTIONS = 200
MAX_POOLS = 50
MAX_PROMPT = 10_000
MAX_POINTS = Decimal(1000)
YEARS = (1970, 9000)
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")


@dataclass
class QuestionSpec:
    slug: str
    kind: str
    points: Decimal
    prompt: str
    choices: list
    key: dict
    explanation: str
    pool: str | None
    position: int


@dataclass
class QuizSpec:
    slug: str
    title: str
    lecture: int
    item: str | None
    points: Decimal
    fields: dict  # the Quiz model's other fields
    pools: list[tuple[str, int]] = field(default_factory=list)
    questions: list[QuestionSpec] = field(default_factory=list)


def quiz_read(text: str | bytes) -> QuizSpec:
    """The quiz ``text`` describes, checked whole; ValidationError naming the first problem."""
    data = yaml_load(text)
    unknown = set(data) - QUIZ_KEYS
    if unknown:
        raise ValidationError(f"Unknown keys in the quiz file: {_names(unknown)}.")
    slug = _slug(data.get("slug"), "The quiz's slug")
    lecture = data.get("lecture")
    if not isinstance(lecture, int) or isinstance(lecture, bool) or not 0 <= lecture <= 1000:
        raise ValidationError("lecture must be the lecture's number.")
    item = data.get("item")
    if item is not None and (not isinstance(item, str) or not 0 < len(item) <= 120):
        raise ValidationError("item must be the name of a graded item (at most 120 characters).")
    item = _text(item, "item", 120)
    spec = QuizSpec(
        slug=slug,
        title=_text(data.get("title"), "title", 200, required=True),
        lecture=lecture,
        item=item or None,
        points=points_value(data.get("points", 10), "points", positive=True),
        fields=_quiz_fields(data),
    )
    spec.pools = _pools(data.get("pools"))
    spec.questions = _questions(data.get("questions"), {name for name, _ in spec.pools})
    for name, draw in spec.pools:
        held = sum(1 for q in spec.questions if q.pool == name)
        if held < draw:
            raise ValidationError(f"Pool {name} draws {draw} but holds {held} questions.")
    return spec


def yaml_load(text: str | bytes) -> dict:
    """``text`` as YAML data, if it is small, plain (no anchors, aliases or Python tags) and a
    mapping; ValidationError if not."""
    if isinstance(text, bytes):
        if len(text) > MAX_YAML_BYTES:
            raise ValidationError("The quiz file is larger than 1 MB.")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError("The quiz file is not UTF-8 text.") from exc
    if not isinstance(text, str) or len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise ValidationError("The quiz file is larger than 1 MB.")
    loader = _loader()
    try:
        _check_events(yaml.parse(text, Loader=loader))
        data = yaml.load(text, Loader=loader)  # a safe loader, checked above
    except yaml.YAMLError as exc:
        raise ValidationError(f"The quiz file is not valid YAML: {exc}") from exc
    except (ValueError, OverflowError, TypeError) as exc:  # 2026-13-45, a 5,000-digit number
        raise ValidationError(f"The quiz file holds a value YAML cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError("The quiz file must be a mapping (slug:, title:, questions: ...).")
    return data


def _loader():
    """YAML's safe loader, refusing a mapping that gives a key twice (PyYAML would keep the last
    silently: ``key:`` written twice, the second one counts) or that merges another (``<<``)."""
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        "a merge key (<<) is not allowed: write each value out",
                        key_node.start_mark,
                    )
                key = self.construct_object(key_node, deep=True)
                marker = (type(key), key) if isinstance(key, Hashable) else None
                if marker in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is given twice", key_node.start_mark
                    )
                seen.add(marker)
            return super().construct_mapping(node, deep=deep)

    return Loader


def _check_events(events) -> None:
    depth = nodes = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ValidationError(
                "The quiz file uses a YAML anchor or alias (& or *): write each value out."
            )
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ValidationError(f"The quiz file is nested more than {MAX_DEPTH} deep.")
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise ValidationError(f"The quiz file holds more than {MAX_NODES:,} values.")


def _names(keys) -> str:
    return ", ".join(sorted(str(k) for k in keys))


def _slug(value, what: str) -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise ValidationError(f"{what} must be 1 to 60 letters, digits, - or _.")
    return value


def _text(value, what: str, limit: int, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        need = "text" if not required else "non-empty text"
        raise ValidationError(f"{what} must be {need} of at most {limit:,} characters.")
    if "\x00" in value:
        raise ValidationError(f"{what} contains a NUL character.")
    return value.strip() if required else value


def points_value(value, what: str, *, positive: bool = False) -> Decimal:
    """``value`` as points: a number from 0 (above 0 if ``positive``) to 1,000 with at most
    three decimals; ValidationError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        value = None
    try:
        points = Decimal(str(value)) if value is not None else Decimal("NaN")
    except InvalidOperation:
        points = Decimal("NaN")
    ok = points.is_finite() and (points > 0 if positive else points >= 0)
    if not ok or points > MAX_POINTS or points != points.quantize(Decimal("0.001")):
        low = "above 0" if positive else "from 0"
        raise ValidationError(f"{what} must be a number {low} to 1,000, with at most 3 decimals.")
    return points


def _quiz_fields(data: dict) -> dict:
    fields = {
        "opens_at": _moment(data.get("opens_at"), "opens_at"),
        "closes_at": _moment(data.get("closes_at"), "closes_at"),
        "time_limit": datetime.timedelta(minutes=_minutes(data.get("time_limit_minutes", 10))),
        "attempts_allowed": _count(data.get("attempts", 1), "attempts"),
        "combine": _choice(data.get("combine", Combine.HIGHEST), "combine", Combine.values),
        "shuffle_questions": _flag(data, "shuffle_questions"),
        "shuffle_choices": _flag(data, "shuffle_choices"),
        "review": _choice(data.get("review", Review.AFTER_CLOSE), "review", Review.values),
    }
    if fields["closes_at"] <= fields["opens_at"]:
        raise ValidationError("closes_at must be after opens_at.")
    return fields


def _choice(value, name: str, allowed) -> str:
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}.")
    return value


def _minutes(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 360:
        raise ValidationError("time_limit_minutes must be a number of minutes from 1 to 360.")
    return float(value)


def _flag(data: dict, name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be true or false.")
    return value


def _moment(value, name: str) -> datetime.datetime:
    if isinstance(value, str) and len(value) <= 40:
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        raise ValidationError(f"{name} must be a date and time with its zone (2026-09-07T10:00Z).")
    if not YEARS[0] <= value.year <= YEARS[1]:  # beyond, UTC and date arithmetic overflow
        raise ValidationError(f"{name} must be in the years {YEARS[0]} to {YEARS[1]}.")
    return value


def _count(value, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise ValidationError(f"{name} must be a whole number from 1 to 100.")
    return value


def _pools(entries) -> list[tuple[str, int]]:
    if entries is None:
        return []
    if not isinstance(entries, list) or len(entries) > MAX_POOLS:
        raise ValidationError(f"pools must be a list of at most {MAX_POOLS} pools.")
    pools: list[tuple[str, int]] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"name", "draw"}:
            raise ValidationError(f"Pool {position + 1}: give name and draw only.")
        name = _text(entry["name"], f"Pool {position + 1}'s name", 100, required=True)
        if name in (n for n, _ in pools):
            raise ValidationError(f"Two pools are called {name!r}.")
        pools.append((name, _count(entry["draw"], f"Pool {name}'s draw")))
    return pools


def _questions(entries, pools: set[str]) -> list[QuestionSpec]:
    if not isinstance(entries, list) or not entries:
        raise ValidationError("A quiz needs at least one question (questions: a list).")
    if len(entries) > MAX_QUESTIONS:
        raise ValidationError(f"A quiz holds at most {MAX_QUESTIONS} questions.")
    questions, slugs = [], set()
    for position, entry in enumerate(entries):
        question = question_read(entry, position, pools)
        if question.slug in slugs:
            raise ValidationError(f"Two questions are called {question.slug}.")
        slugs.add(question.slug)
        questions.append(question)
    return questions


def question_read(entry, position: int, pools: set[str]) -> QuestionSpec:
    """One question of a quiz file, checked; ValidationError naming the question and field."""
    if not isinstance(entry, dict):
        raise ValidationError(f"Question {position + 1} is not a mapping.")
    raw_slug = entry.get("slug", f"q{position + 1}")
    name = raw_slug if isinstance(raw_slug, str) and len(raw_slug) <= 60 else f"{position + 1}"
    try:
        return _question(entry, position, pools)
    except ValidationError as exc:
        raise ValidationError(f"Question {name}: {' '.join(exc.messages)}") from exc


def _question(entry: dict, position: int, pools: set[str]) -> QuestionSpec:
    unknown = set(entry) - QUESTION_KEYS
    if unknown:
        raise ValidationError(f"unknown keys {_names(unknown)}.")
    slug = _slug(entry.get("slug", f"q{position + 1}"), "slug")
    kind = entry.get("kind")
    if kind not in Kind.values:
        raise ValidationError(f"kind must be one of {', '.join(Kind.values)}.")
    pool = entry.get("pool")
    if pool is not None and pool not in pools:
        raise ValidationError(f"there is no pool {pool!r}.")
    choices = entry.get("choices")
    key = scoring.key_validate(kind, entry.get("key", {}), choices)
    return QuestionSpec(
        slug=slug,
        kind=kind,
        points=points_value(entry.get("points", 1), "points"),
        prompt=_text(entry.get("prompt"), "prompt", MAX_PROMPT, required=True),
        choices=list(choices or []),
        key=key,
        explanation=_text(entry.get("explanation"), "explanation", MAX_PROMPT),
        pool=pool,
        position=position,
    )
