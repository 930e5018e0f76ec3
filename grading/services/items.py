"""Graded items: created in a component, published when staff are ready."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError

from courseapp.courses.models import Course
from grading import exports
from grading.models import Component, GradedItem, ItemKind
from grading.selectors import grading_scheme_current


def graded_item_create(
    *,
    course: Course,
    component: str,
    name: str,
    max_points: Decimal | int | str,
    kind: ItemKind | str = ItemKind.MANUAL,
    due_at: datetime.datetime | None = None,
    published: bool = False,
    never_drop: bool = False,
    team_graded: bool = False,
    position: int = 0,
) -> GradedItem:
    found = Component.objects.filter(course=course, name=component).first()
    scheme = grading_scheme_current(course=course)
    current = [c["name"] for c in scheme.components] if scheme else []
    if found is None or component not in current:
        names = ", ".join(current) or "none yet: set up the grading scheme first"
        raise ValidationError(f"{course.code} has no component {component!r} (it has: {names}).")
    reserved = {*exports.IDENTITY_COLUMNS, *exports.SUMMARY_COLUMNS}
    if name.strip().lower() in reserved or name.endswith(" total"):
        raise ValidationError(f"{name!r} would clash with a gradebook CSV column; choose another.")
    item = GradedItem(
        course=course,
        component=found,
        name=name,
        kind=ItemKind(kind),
        max_points=Decimal(str(max_points)),
        due_at=due_at,
        published=published,
        never_drop=never_drop,
        team_graded=team_graded,
        position=position,
    )
    item.full_clean()
    item.save()
    return item


def graded_item_publish(*, item: GradedItem, published: bool = True) -> GradedItem:
    """Students see an item's scores, and count it in their total, only once it is published."""
    if item.published != published:
        item.published = published
        item.save(update_fields=["published"])
    return item
