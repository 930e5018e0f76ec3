""" "What do I need" searches stretches of percentages by bisection; its answers are those of
trying every step from 0 to 100 % in 0.1 % steps, drops (where the total can fall as p rises),
ties, "never drop", overrides, late work and excused items included."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal as D
from fractions import Fraction

import pytest

from grading.breakdowns import Breakdowns, compute_breakdown
from grading.computation import (
    ComponentSpec,
    Cutoff,
    ItemSpec,
    SchemeSpec,
    ScoreSpec,
    Status,
)
from grading.needs import Need, what_do_i_need

DUE = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
CUTOFFS = (Cutoff("A", D(90)), Cutoff("B", D("75.5")), Cutoff("C", D(60)), Cutoff("D", D(0)))


def every_step(scheme, items, scores) -> list[Need]:
    """The plain search: 1,001 breakdowns, one per 0.1 %."""
    items = list(items)
    with_items = {i.component for i in items}
    items += [
        ItemSpec(-n, "to come", c.name, D(1))
        for n, c in enumerate(scheme.components, start=1)
        if c.name not in with_items
    ]
    remaining = [i for i in items if i.id not in scores]
    totals = []
    for p in range(1001):
        hypothetical = dict(scores)
        for item in remaining:
            hypothetical[item.id] = ScoreSpec(item.id, raw_points=item.max_points * p / 1000)
        totals.append(Fraction(compute_breakdown(scheme, items, hypothetical).rounded_total))
    needs = []
    for cutoff in scheme.cutoffs[:-1]:
        reaches = [t >= Fraction(cutoff.min_points) for t in totals]
        if all(reaches):
            needs.append(Need(cutoff.letter, D(0), True))
        elif not reaches[-1]:
            needs.append(Need(cutoff.letter, None, False))
        else:
            lowest = max(p for p, ok in enumerate(reaches) if not ok) + 1
            needs.append(Need(cutoff.letter, D(lowest) / 10, False))
    return needs


def random_case(rng: random.Random):
    components = tuple(
        ComponentSpec(f"C{n}", D(rng.choice([10, 20, 30, 45])), rng.choice([0, 0, 1, 2, 3]))
        for n in range(rng.randint(1, 3))
    )
    scheme = SchemeSpec(components, CUTOFFS)
    items, scores = [], {}
    for component in components:
        for _ in range(rng.randint(0, 6)):
            item_id = len(items) + 1
            maximum = D(rng.choice(["1", "5", "10", "20", "7.5", "3"]))
            items.append(
                ItemSpec(item_id, f"I{item_id}", component.name, maximum, DUE, rng.random() < 0.2)
            )
            roll = rng.random()
            if roll < 0.45:
                continue  # still to come
            raw = maximum * rng.randint(0, 20) / 20
            late = DUE + datetime.timedelta(hours=30) if rng.random() < 0.2 else None
            if roll < 0.5:
                scores[item_id] = ScoreSpec(item_id, Status.EXCUSED)
            elif roll < 0.55:
                scores[item_id] = ScoreSpec(item_id, Status.MISSING)
            elif roll < 0.6:
                scores[item_id] = ScoreSpec(item_id, raw_points=raw, override_points=maximum / 2)
            else:
                scores[item_id] = ScoreSpec(item_id, raw_points=raw, submitted_at=late)
    return scheme, items, scores


def test_the_total_can_fall_as_p_rises_and_the_answer_is_still_every_steps():
    # Drop one: at 0 % the item to come (the largest at 0 %) is dropped, 50/101 = 49.5 %, which
    # rounds to 50 and reaches C (40); just above 0 % the 0/1 item is dropped instead and the total
    # falls to 25 %; it reaches 40 again from (50 + 100p) / 200 ≥ 39.5 %, p ≥ 29 %.
    cutoffs = (Cutoff("A", D(90)), Cutoff("B", D(75)), Cutoff("C", D(40)), Cutoff("D", D(0)))
    scheme = SchemeSpec((ComponentSpec("All", D(100), 1),), cutoffs)
    items = [
        ItemSpec(1, "Zero", "All", D(1)),
        ItemSpec(2, "Half", "All", D(100)),
        ItemSpec(3, "To come", "All", D(100)),
    ]
    scores = {1: ScoreSpec(1, raw_points=D(0)), 2: ScoreSpec(2, raw_points=D(50))}

    needs = what_do_i_need(scheme, items, scores)

    assert needs == every_step(scheme, items, scores)
    assert needs[2] == Need("C", D(29), False)  # not "secured" for its 0 %


@pytest.mark.parametrize("seed", range(40))
def test_it_answers_as_every_step_does(seed):
    scheme, items, scores = random_case(random.Random(seed))

    assert what_do_i_need(scheme, items, scores) == every_step(scheme, items, scores)


def test_it_takes_a_few_dozen_breakdowns_not_a_thousand(monkeypatch):
    scheme, items, scores = random_case(random.Random(3))
    calls = []
    real = Breakdowns.__call__
    monkeypatch.setattr(Breakdowns, "__call__", lambda *a, **k: calls.append(1) or real(*a, **k))

    what_do_i_need(scheme, items, scores)

    assert 0 < len(calls) < 100
