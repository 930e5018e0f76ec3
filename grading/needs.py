"""What do I need: for each letter, the lowest uniform percentage on the work still to come that
reaches it, found with the breakdown itself (``grading.breakdowns``), so it follows every rule,
drops included."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from grading.breakdowns import Breakdowns
from grading.computation import (
    ONE,
    Breakdown,
    ItemSpec,
    SchemeSpec,
    ScoreSpec,
    exact_fraction,
    exact_ratio,
)


@dataclass(frozen=True)
class Need:
    letter: str
    percent: Decimal | None  # lowest uniform percentage on the remaining items; None: out of reach
    secured: bool  # reached already, whatever happens on the remaining items


def what_do_i_need(
    scheme: SchemeSpec,
    items: Iterable[ItemSpec],
    scores: Mapping[int, ScoreSpec],
    due_dates: Mapping[int, datetime.datetime] | None = None,
    *,
    only_published: bool = False,
) -> list[Need]:
    """For each letter above the lowest: the lowest uniform percentage p on what is still to come
    (in steps of 0.1 %) from which every higher p reaches it too, found with the breakdown itself
    (so it follows every rule above, drops included).

    Still to come: the items without a score the student can see (in their own view,
    ``only_published``, unpublished items count as to come whatever staff entered), and a
    component with no items yet, as one item of its own. "Secured": every p from 0 to 100 %
    reaches the letter.

    Drops can make the total fall as p rises (an item to come stops being dropped when p passes
    a graded item's percentage), but only there: between two such points the same items are
    dropped, and the total can only rise with p. So the 1,001 steps are cut into those stretches
    (``_stretches``) and each is searched by bisection: the answer of trying every step, in a
    few dozen breakdowns rather than 1,001.
    """
    items = list(items)
    if only_published:
        published = {i.id for i in items if i.published}
        scores = {item_id: s for item_id, s in scores.items() if item_id in published}
    with_items = {i.component for i in items}
    placeholders = [
        ItemSpec(-number, f"{c.name} (to come)", c.name, ONE)
        for number, c in enumerate(scheme.components, start=1)
        if c.name not in with_items
    ]
    items += placeholders
    remaining = [i for i in items if i.id not in scores]
    breakdowns = Breakdowns(scheme, items)
    totals: dict[int, Fraction] = {}

    def total_at(per_mille: int) -> Fraction:
        if per_mille not in totals:
            hypothetical = dict(scores)
            for item in remaining:
                points = item.max_points * per_mille / 1000  # exact: a decimal over a power of 10
                hypothetical[item.id] = ScoreSpec(item.id, raw_points=points)
            breakdown = breakdowns(hypothetical, due_dates)
            totals[per_mille] = Fraction(breakdown.rounded_total)
        return totals[per_mille]

    stretches = _stretches(breakdowns(scores, due_dates), {i.id for i in remaining})
    needs = []
    for cutoff in scheme.cutoffs[:-1]:
        short = _highest_short(total_at, stretches, exact_fraction(cutoff.min_points))
        if short is None:
            needs.append(Need(cutoff.letter, Decimal(0), True))
        elif short == STEPS:
            needs.append(Need(cutoff.letter, None, False))
        else:
            needs.append(Need(cutoff.letter, Decimal(short + 1) / 10, False))
    return needs


STEPS = 1000  # the percentages tried: 0, 0.1 %, …, 100 %


def _stretches(now: Breakdown, remaining: set[int]) -> list[tuple[int, int]]:
    """The steps 0…``STEPS`` cut where the items a component drops may change: at each graded,
    droppable item's percentage in a component that drops and has items to come (``now``: the
    breakdown with the scores there are). Within a stretch the total rises with p."""
    cuts = {0}
    for component in now.components:
        if not component.spec.drop_lowest or not any(
            r.item.id in remaining for r in component.items
        ):
            continue
        for result in component.items:
            if result.item.id in remaining or result.earned is None or result.item.never_drop:
                continue
            at = exact_ratio(result.earned, result.possible) * STEPS
            step = math.ceil(at)
            cuts.add(step)
            if step == at:  # a tie: its own order of the items, so a stretch of its own
                cuts.add(step + 1)
    starts = sorted(c for c in cuts if 0 <= c <= STEPS)
    return list(zip(starts, [*starts[1:], STEPS + 1], strict=True))


def _highest_short(total_at, stretches: list[tuple[int, int]], bound: Fraction) -> int | None:
    """The highest step whose total falls short of ``bound``, or None when none does."""
    for first, end in reversed(stretches):
        last = end - 1
        if total_at(last) < bound:
            return last
        if total_at(first) >= bound:
            continue
        short, reaches = first, last  # bisect: the total rises within a stretch
        while reaches - short > 1:
            middle = (short + reaches) // 2
            if total_at(middle) < bound:
                short = middle
            else:
                reaches = middle
        return short
    return None
