"""Scores a student may not see yet although their item is published: another app's rule (a
quiz's review policy: its points only after it closes) registers here, so that every page and API
that shows a student their own grades asks one place, and grading still knows nothing of how a
score was produced. Staff views never ask: staff always see every score."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.utils import timezone

HiddenItems = Callable[..., set[int]]  # (course=, now=) -> ids of items hidden from students now
_RULES: list[HiddenItems] = []


def hidden_items_rule(rule: HiddenItems) -> HiddenItems:
    """Register ``rule(course=, now=)``: the ids of the course's items whose scores students may
    not see at ``now``."""
    if rule not in _RULES:
        _RULES.append(rule)
    return rule


def items_hidden_from_students(*, course, now: datetime.datetime | None = None) -> set[int]:
    now = now or timezone.now()
    hidden: set[int] = set()
    for rule in _RULES:
        hidden |= rule(course=course, now=now)
    return hidden
