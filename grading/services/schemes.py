"""Grading scheme versions: validated, previewed against every student, then applied."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import transaction

from courseapp.courses.models import Course
from grading import selectors
from grading.computation import SHOWN_PLACES, Rounding
from grading.models import Component, GradeRelease, GradingScheme

DEFAULT_LATE_POLICY = {"percent_per_day": "10", "floor_percent": "0", "max_days_late": 7}


def _decimal(value, *, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValidationError(f"{what} must be a number, not {value!r}.") from exc
    if not number.is_finite():
        raise ValidationError(f"{what} must be a finite number, not {value!r}.")
    return number


def _validated_late_policy(policy: dict | None, *, where: str) -> dict | None:
    if policy is None:
        return None
    per_day = _decimal(policy.get("percent_per_day", 10), what=f"{where}: percent per day")
    floor = _decimal(policy.get("floor_percent", 0), what=f"{where}: floor percent")
    try:
        max_days = int(policy.get("max_days_late", 7))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{where}: max days late must be a whole number.") from exc
    if not (0 <= per_day <= 100 and 0 <= floor <= 100 and max_days >= 0):
        raise ValidationError(
            f"{where}: percentages go from 0 to 100 and max days late is not negative."
        )
    return {"percent_per_day": str(per_day), "floor_percent": str(floor), "max_days_late": max_days}


def _require_keys(rows: list, keys: tuple[str, ...], what: str) -> None:
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or any(key not in row for key in keys):
            raise ValidationError(f"{what} {number} needs {' and '.join(keys)}.")


def _validated_components(components: list[dict]) -> list[dict]:
    if not components:
        raise ValidationError("A grading scheme needs at least one component.")
    _require_keys(components, ("name", "points"), "Component")
    names = [c["name"] for c in components]
    if len(set(names)) != len(names):
        raise ValidationError("Component names must be different from each other.")
    result = []
    for component in components:
        name = component["name"]
        points = _decimal(component["points"], what=f"Points of {name}")
        if points <= 0:
            raise ValidationError(f"Points of {name} must be positive.")
        drop = component.get("drop_lowest", 0)
        if not isinstance(drop, int) or drop < 0:
            raise ValidationError(f"{name}: drop lowest must be a whole number, 0 or more.")
        late = _validated_late_policy(component.get("late_policy"), where=name)
        result.append(
            {"name": name, "points": str(points), "drop_lowest": drop, "late_policy": late}
        )
    return result


def _validated_cutoffs(cutoffs: list[dict], *, total: Decimal) -> list[dict]:
    """Cutoffs are lower bounds, strictly descending, and the last is 0: bands cannot overlap and
    no total falls between two of them."""
    if not cutoffs:
        raise ValidationError("A grading scheme needs at least one letter cutoff.")
    _require_keys(cutoffs, ("letter", "min_points"), "Cutoff")
    letters = [c["letter"] for c in cutoffs]
    if len(set(letters)) != len(letters):
        raise ValidationError("Each letter appears once among the cutoffs.")
    bounds = [_decimal(c["min_points"], what=f"The cutoff of {c['letter']}") for c in cutoffs]
    for letter, bound in zip(letters, bounds, strict=True):
        if -bound.normalize().as_tuple().exponent > SHOWN_PLACES:
            raise ValidationError(
                f"The cutoff of {letter} ({bound}) has more than {SHOWN_PLACES} decimals: totals "
                f"are shown with {SHOWN_PLACES}, so a shown total could not tell which side of it "
                "the student is."
            )
    for (higher, high), (lower, low) in pairwise(zip(letters, bounds, strict=True)):
        if low >= high:
            raise ValidationError(
                f"Cutoffs must descend: {lower} starts at {low}, not below {higher} at {high}."
            )
    if bounds[0] > total:
        raise ValidationError(
            f"{letters[0]} starts at {bounds[0]}, above the {total} points possible."
        )
    if bounds[-1] != 0:
        raise ValidationError(
            f"The lowest letter ({letters[-1]}) must start at 0, else totals below {bounds[-1]} "
            "would have no letter."
        )
    pairs = zip(letters, bounds, strict=True)
    return [{"letter": letter, "min_points": str(bound)} for letter, bound in pairs]


@dataclass(frozen=True)
class SchemeData:
    """A validated scheme, not yet saved."""

    components: list[dict]
    letter_cutoffs: list[dict]
    late_policy: dict
    rounding: Rounding


def scheme_validate(
    *,
    components: list[dict],
    letter_cutoffs: list[dict],
    late_policy: dict | None = None,
    rounding: Rounding | str = Rounding.HALF_UP,
) -> SchemeData:
    clean = _validated_components(components)
    total = sum((Decimal(c["points"]) for c in clean), Decimal(0))
    try:
        rounding = Rounding(rounding)
    except ValueError as exc:
        raise ValidationError(f"Rounding must be one of {[r.value for r in Rounding]}.") from exc
    return SchemeData(
        components=clean,
        letter_cutoffs=_validated_cutoffs(letter_cutoffs, total=total),
        late_policy=_validated_late_policy(late_policy or DEFAULT_LATE_POLICY, where="Late policy"),
        rounding=rounding,
    )


def _unsaved(course: Course, data: SchemeData, version: int) -> GradingScheme:
    return GradingScheme(
        course=course,
        version=version,
        components=data.components,
        letter_cutoffs=data.letter_cutoffs,
        late_policy=data.late_policy,
        rounding=data.rounding,
    )


@dataclass(frozen=True)
class LetterChange:
    student: object
    old_total: Decimal
    old_letter: str
    new_total: Decimal
    new_letter: str


def grading_scheme_preview(*, course: Course, data: SchemeData) -> list[LetterChange]:
    """Every student whose letter would change if ``data`` became the current scheme."""
    current = selectors.grading_scheme_current(course=course)
    if current is None:
        return []
    _check_components_kept(course, data)
    before = selectors.gradebook_for_course(course=course)
    after = selectors.gradebook_for_course(
        course=course, scheme=_unsaved(course, data, current.version + 1)
    )
    changes = []
    for student, old in before.rows():
        new = after.breakdowns[student.pk]
        if old.letter != new.letter:
            changes.append(LetterChange(student, old.total, old.letter, new.total, new.letter))
    return changes


def _check_components_kept(course: Course, data: SchemeData) -> None:
    names = {c["name"] for c in data.components}
    orphaned = Component.objects.filter(course=course, items__isnull=False).exclude(name__in=names)
    if orphaned.exists():
        gone = ", ".join(sorted(set(orphaned.values_list("name", flat=True))))
        raise ValidationError(f"Items still belong to {gone}; move or delete them first.")


@transaction.atomic
def grading_scheme_create(
    *,
    course: Course,
    components: list[dict],
    letter_cutoffs: list[dict],
    late_policy: dict | None = None,
    rounding: Rounding | str = Rounding.HALF_UP,
    created_by=None,
    note: str = "",
) -> GradingScheme:
    """Add a new version of the course's scheme; earlier versions stay as they were."""
    data = scheme_validate(
        components=components,
        letter_cutoffs=letter_cutoffs,
        late_policy=late_policy,
        rounding=rounding,
    )
    _check_components_kept(course, data)
    Course.objects.select_for_update().filter(pk=course.pk).first()  # one new version at a time
    latest = selectors.grading_scheme_current(course=course)
    scheme = _unsaved(course, data, latest.version + 1 if latest else 1)
    scheme.created_by, scheme.note = created_by, note
    scheme.save()
    for position, component in enumerate(data.components):
        Component.objects.update_or_create(
            course=course, name=component["name"], defaults={"position": position}
        )
    return scheme


def grades_release(*, course: Course, released_by) -> GradeRelease:
    """Publish final letters with the current scheme version."""
    scheme = selectors.grading_scheme_current(course=course)
    if scheme is None:
        raise ValidationError(f"{course.code} has no grading scheme to release grades with.")
    return GradeRelease.objects.create(course=course, scheme=scheme, released_by=released_by)
