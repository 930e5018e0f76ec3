"""Reads of the gradebook. Every grade shown anywhere comes from ``gradebook_for_course`` or
``student_grades``, which load a course in a fixed number of queries and hand the rows to
``grading.computation``."""

from __future__ import annotations

import datetime
import gc
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db import connections, models
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from courseapp.courses.models import Course
from courseapp.courses.selectors import student_enrollments
from courseapp.prepared import one_or_none, prepared
from grading import computation as calc
from grading.breakdowns import Breakdowns
from grading.models import (
    Extension,
    GradedItem,
    GradeRelease,
    GradingScheme,
    RegradeRequest,
    RegradeStatus,
    Score,
    ScoreHistory,
)
from grading.needs import Need, what_do_i_need
from grading.visibility import items_hidden_from_students


def grading_scheme_current(*, course: Course) -> GradingScheme | None:
    # Every score written reads it: compiled once (a pk of another type goes the ORM's way there).
    return one_or_none(_scheme_current(getattr(course, "pk", course)))


@prepared(int)
def _scheme_current(course_pk: int) -> QuerySet[GradingScheme]:
    return GradingScheme.objects.filter(course=course_pk).order_by("-version")[:1]


def grade_release_latest(*, course: Course) -> GradeRelease | None:
    return (
        GradeRelease.objects.filter(course=course)
        .select_related("scheme")
        .order_by("-released_at", "-pk")
        .first()
    )


def _late_policy(data: dict | None) -> calc.LatePolicy | None:
    if not data:
        return None
    return calc.LatePolicy(
        percent_per_day=Decimal(data["percent_per_day"]),
        floor_percent=Decimal(data["floor_percent"]),
        max_days_late=int(data["max_days_late"]),
    )


def scheme_spec(scheme: GradingScheme) -> calc.SchemeSpec:
    return calc.SchemeSpec(
        components=tuple(
            calc.ComponentSpec(
                name=c["name"],
                points=Decimal(c["points"]),
                drop_lowest=int(c.get("drop_lowest", 0)),
                late_policy=_late_policy(c.get("late_policy")),
            )
            for c in scheme.components
        ),
        cutoffs=tuple(
            calc.Cutoff(c["letter"], Decimal(c["min_points"])) for c in scheme.letter_cutoffs
        ),
        rounding=calc.Rounding(scheme.rounding),
        late_policy=_late_policy(scheme.late_policy) or calc.LatePolicy(),
        version=scheme.version,
    )


def item_spec(item: GradedItem, hidden: frozenset[int] | set[int] = frozenset()) -> calc.ItemSpec:
    """``item`` for the computation; one in ``hidden`` counts as unpublished (a student's view)."""
    return calc.ItemSpec(
        id=item.pk,
        name=item.name,
        component=item.component.name,
        max_points=item.max_points,
        due_at=item.due_at,
        never_drop=item.never_drop,
        published=item.published and item.pk not in hidden,
    )


def score_spec(score: Score) -> calc.ScoreSpec:
    return calc.ScoreSpec(
        item_id=score.item_id,
        status=calc.Status(score.status),
        raw_points=score.raw_points,
        submitted_at=score.submitted_at,
        override_points=score.override_points,
        adjustment=score.adjustment,
    )


SPEC_FIELDS = ("item_id", "status", "raw_points", "submitted_at", "override_points", "adjustment")
STATUSES = {status.value: status for status in calc.Status}


def _score_spec(values: tuple) -> calc.ScoreSpec:
    """A score from the values of ``SPEC_FIELDS``, as ``values_list`` gives them."""
    item_id, status, *rest = values
    return calc.ScoreSpec(item_id, STATUSES[status], *rest)


@contextmanager
def _collector_paused():
    """Python's cycle collector off while a gradebook is built, back on (if it was) after.

    Why: the collector runs every 700 new containers, and now and then walks every object the
    process holds; a gradebook reads 60,000 rows (a tuple each) and keeps tens of thousands of
    small objects, none in a cycle, so those walks find nothing and took a fifth of its time.
    What cycles other code makes meanwhile are collected at the next run after this."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _shared_rows(
    queryset: QuerySet, key: str, fields: tuple[str, ...], make: Callable[[tuple], object]
) -> tuple[tuple, Iterable]:
    """``queryset.values_list(key, *fields)`` as the column of ``key`` and, row by row, ``make``
    of the row's ``fields`` (each value the one ``values_list`` gives), made once per distinct
    row and shared by every row alike, rather than once per row as Django does.

    Why: on SQLite a decimal comes back as a float that Django converts to ``Decimal`` and
    quantizes, and a date as text it parses; for a gradebook's 60,000 scores that was most of the
    time it took to load them, for a few dozen distinct values and a few thousand distinct scores
    (the item, the points, the status...: only the student differs). Shared, a score is one
    object, whose results the breakdowns make once (``computation.component_result``). Public
    API only: the SQL Django writes for the ``values_list`` (``query.sql_with_params()``) on a
    cursor, one ``fetchall``, and each distinct value through ``_from_db`` (a test pins that it
    gives what ``values_list`` does, on whatever database the tests run on)."""
    sql, params = queryset.values_list(key, *fields).query.sql_with_params()
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        _decimals_as_text(cursor, connection)
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return (), ()
    keys, *columns = zip(*rows, strict=True)
    made = dict.fromkeys(zip(*columns, strict=True))  # the distinct rows, as the database gave them
    distinct: list[Iterable] = list(zip(*made, strict=True))
    for pos, name in enumerate(fields):
        convert = _from_db(queryset.model._meta.get_field(name), connection)
        if convert is not None:
            distinct[pos] = map(_Converted(convert).__getitem__, distinct[pos])
    made = dict(zip(made, map(make, zip(*distinct, strict=True)), strict=True))
    return keys, map(made.__getitem__, zip(*columns, strict=True))


def _decimals_as_text(cursor, connection) -> None:
    """On PostgreSQL with psycopg 3, this cursor's decimals as the text the server sends rather
    than a ``Decimal`` per cell (``cursor.adapters``: psycopg's per-cursor configuration; the
    connection's is unchanged).

    Why: telling a gradebook's distinct rows apart hashes every value, and a ``Decimal`` hashes
    slowly (60 of 170 ms of reading 60,000 scores); text hashes fast, and ``_from_db`` makes each
    distinct text the same ``Decimal`` that psycopg would have (the test that pins the scores to
    the ORM's runs on PostgreSQL too). Other databases and drivers: values as they come."""
    if connection.vendor != "postgresql":
        return
    adapters = getattr(cursor.cursor, "adapters", None)  # psycopg 2 has none
    if adapters is not None:
        from psycopg.types.string import TextLoader

        adapters.register_loader(NUMERIC_OID, TextLoader)


# PostgreSQL's type for decimal columns, by its fixed OID (pg_type), not its name: the name is
# also a question kind's, which only the kinds may spell out.
NUMERIC_OID = 1700


def _from_db(field, connection) -> Callable | None:
    """What turns ``field``'s raw database value into the one Django gives (None: the value as
    it comes). The backends' converters, through public API: a decimal to the field's places (on
    SQLite it comes as a float), a datetime aware in the database's time zone (on SQLite it comes
    naive)."""
    if isinstance(field, models.DecimalField):
        places = Decimal(1).scaleb(-field.decimal_places)
        return lambda raw: field.to_python(raw).quantize(places, context=field.context)
    if isinstance(field, models.DateTimeField) and settings.USE_TZ:

        def aware(raw):
            value = field.to_python(raw)
            if timezone.is_aware(value):
                return value
            return timezone.make_aware(value, connection.timezone)

        return aware
    return None


class _Converted(dict):
    """One column's values by raw value, each made on first use; None stays None."""

    def __init__(self, convert: Callable):
        super().__init__({None: None})
        self.convert = convert

    def __missing__(self, raw):
        value = self[raw] = self.convert(raw)
        return value


def graded_item_list(*, course: Course) -> QuerySet[GradedItem]:
    return GradedItem.objects.filter(course=course).select_related("component")


def course_student(*, course: Course, username: str):
    """A student of the course by username, or 404."""
    enrollment = student_enrollments(course=course).filter(user__username=username).first()
    if enrollment is None:
        raise Http404(f"{username} is not a student of {course.code}.")
    return enrollment.user


def extension_due_dates(
    *, course: Course, students=None
) -> dict[int, dict[int, datetime.datetime]]:
    """The extended due dates of ``course``, by student id, then item id, in one query; only
    ``students``' when given (a few: for the whole class, no list of 1,000 ids)."""
    extensions = Extension.objects.filter(item__course=course)
    if students is not None:
        extensions = extensions.filter(student__in=students)
    due_by_student: dict[int, dict[int, datetime.datetime]] = defaultdict(dict)
    for student_id, item_id, due_at in extensions.values_list("student_id", "item_id", "due_at"):
        due_by_student[student_id][item_id] = due_at
    return due_by_student


def due_at_for(
    *, item: GradedItem, student, extensions: dict[int, datetime.datetime] | None = None
) -> datetime.datetime | None:
    """The student's due date for ``item``: their extension, else the item's. ``extensions`` (the
    student's, by item id, from ``extension_due_dates``) spares the query of a caller that reads
    many items."""
    if extensions is None:  # every score written: compiled once
        extensions = dict(_extensions(item.pk, getattr(student, "pk", student)))
    return calc.own_due_at(item, extensions)


@prepared(int, int)
def _extensions(item_pk: int, student_pk: int):
    found = Extension.objects.filter(item=item_pk, student=student_pk)
    return found.values_list("item_id", "due_at")


@dataclass(frozen=True)
class Gradebook:
    course: Course
    scheme: GradingScheme
    spec: calc.SchemeSpec
    items: list[GradedItem]
    students: list  # users, in class-list order
    breakdowns: dict[int, calc.Breakdown]  # by student id
    scores: dict[int, dict[int, calc.ScoreSpec]]  # by student id, then item id
    due_dates: dict[int, dict[int, datetime.datetime]]  # extensions, by student id, then item id

    def rows(self):
        for student in self.students:
            yield student, self.breakdowns[student.pk]


def gradebook_for_course(
    *,
    course: Course,
    scheme: GradingScheme | None = None,
    students: list | None = None,
    only_published: bool = False,
    hidden_items: set[int] | frozenset[int] = frozenset(),
) -> Gradebook | None:
    """Every student's breakdown, in five queries whatever the size of the class.

    ``students`` narrows it (a student's own view passes just them); ``scheme`` replaces the
    current version (a preview, or the version of the last release); ``hidden_items`` count as
    unpublished (``grading.visibility``, in a student's own view).
    """
    scheme = scheme or grading_scheme_current(course=course)
    if scheme is None:
        return None
    spec = scheme_spec(scheme)
    items = list(graded_item_list(course=course))
    score_rows = Score.objects.filter(item__course=course).order_by()  # no sort: read into dicts
    due_by_student = extension_due_dates(course=course, students=students)
    if students is None:
        students = [e.user for e in student_enrollments(course=course)]
    else:  # a few students: ask for theirs only (for the whole class, no list of 1,000 ids)
        score_rows = score_rows.filter(student__in=students)
    scores_by_student: dict[int, dict[int, calc.ScoreSpec]] = defaultdict(dict)
    breakdown = Breakdowns(
        spec, [item_spec(i, hidden_items) for i in items], only_published=only_published
    )
    with _collector_paused():
        # Plain tuples, not model instances: a class of 1,000 × 60 items is 60,000 rows.
        student_ids, scores = _shared_rows(score_rows, "student_id", SPEC_FIELDS, _score_spec)
        for student_id, score in zip(student_ids, scores, strict=True):
            scores_by_student[student_id][score.item_id] = score
        breakdowns = {
            s.pk: breakdown(scores_by_student[s.pk], due_by_student[s.pk]) for s in students
        }
    return Gradebook(
        course, scheme, spec, items, list(students), breakdowns, scores_by_student, due_by_student
    )


@dataclass(frozen=True)
class StudentGrades:
    gradebook: Gradebook
    breakdown: calc.Breakdown
    release: GradeRelease | None
    hidden_items: frozenset[int] | set[int] = frozenset()

    @cached_property
    def needs(self) -> list[Need]:
        """What each letter needs, computed on first read only: it takes many breakdowns, and a
        page that shows just the total (the course home) never reads it."""
        student = self.gradebook.students[0]
        return what_do_i_need(
            self.gradebook.spec,
            [item_spec(i, self.hidden_items) for i in self.gradebook.items],
            self.gradebook.scores[student.pk],
            self.gradebook.due_dates[student.pk],
            only_published=True,
        )


def student_grades(*, course: Course, student) -> StudentGrades | None:
    """A student's own view: published items only, and of those none that another rule hides
    from students for now (a quiz before its review opens), with the scheme of the last release
    if any."""
    release = grade_release_latest(course=course)
    hidden = items_hidden_from_students(course=course)
    gradebook = gradebook_for_course(
        course=course,
        scheme=release.scheme if release else None,
        students=[student],
        only_published=True,
        hidden_items=hidden,
    )
    if gradebook is None:
        return None
    return StudentGrades(gradebook, gradebook.breakdowns[student.pk], release, hidden)


def student_own_score(*, course: Course, student, item_id: int) -> Score:
    """One of the student's own scores that they may see now (its item published, and not hidden
    by another rule), or 404."""
    hidden = items_hidden_from_students(course=course)
    if item_id in hidden:
        raise Http404("That score is not shown yet.")
    score = (
        Score.objects.select_related("item")
        .filter(item_id=item_id, item__course=course, item__published=True, student=student)
        .first()
    )
    if score is None:
        raise Http404("No such score.")
    return score


def score_history(*, score: Score) -> QuerySet[ScoreHistory]:
    return (
        ScoreHistory.objects.filter(score=score)
        .select_related("changed_by")
        .order_by("changed_at", "pk")
    )


def regrade_requests_open(*, course: Course) -> QuerySet[RegradeRequest]:
    """The course's regrade requests waiting for staff."""
    return RegradeRequest.objects.filter(score__item__course=course, status=RegradeStatus.OPEN)


def regrade_request_list(*, course: Course, student=None) -> QuerySet[RegradeRequest]:
    requests = RegradeRequest.objects.filter(score__item__course=course).select_related(
        "score__item", "score__student", "resolved_by"
    )
    if student is not None:
        requests = requests.filter(score__student=student)
    return requests.order_by("status", "-created_at")
