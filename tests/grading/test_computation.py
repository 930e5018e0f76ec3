"""The one grade computation, on plain data: letters at the cutoffs, drops, excusals, lateness,
overrides, team adjustments, publication and "what do I need"."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest

from grading.breakdowns import compute_breakdown
from grading.computation import (
    ComponentSpec,
    Cutoff,
    ItemSpec,
    ItemState,
    LatePolicy,
    SchemeSpec,
    ScoreSpec,
    Status,
    days_late,
)
from grading.needs import what_do_i_need

CUTOFFS = (Cutoff("A", D(90)), Cutoff("B", D(76)), Cutoff("C", D(60)), Cutoff("D", D(0)))
SLIDES = SchemeSpec(
    components=(
        ComponentSpec("Quizzes", D(10)),
        ComponentSpec("Assignments", D(30)),
        ComponentSpec("Midterm", D(20)),
        ComponentSpec("Final project", D(30)),
        ComponentSpec("Final exam", D(20)),
    ),
    cutoffs=CUTOFFS,
)
DUE = datetime.datetime(2026, 10, 1, 23, 59, tzinfo=datetime.UTC)


def one_item_scheme(points: D) -> tuple[SchemeSpec, list[ItemSpec]]:
    """A scheme whose total is the score of a single 110-point item, to hit any total exactly."""
    scheme = SchemeSpec(components=(ComponentSpec("All", D(110)),), cutoffs=CUTOFFS)
    return scheme, [ItemSpec(1, "Everything", "All", D(110))]


@pytest.mark.parametrize(
    ("total", "rounded", "letter"),
    [
        ("89.4", 89, "B"),
        ("89.5", 90, "A"),
        ("90", 90, "A"),
        ("75.49", 75, "C"),
        ("75.5", 76, "B"),
        ("76", 76, "B"),
        ("59.5", 60, "C"),
        ("59.49", 59, "D"),
        ("60", 60, "C"),
        ("110", 110, "A"),
        ("0", 0, "D"),
    ],
)
def test_letters_at_and_around_every_cutoff(total, rounded, letter):
    scheme, items = one_item_scheme(D(110))

    breakdown = compute_breakdown(scheme, items, {1: ScoreSpec(1, raw_points=D(total))})

    assert breakdown.total == D(total)
    assert breakdown.rounded_total == rounded
    assert breakdown.letter == letter


def test_without_rounding_89_5_stays_a_b():
    scheme, items = one_item_scheme(D(110))
    scheme = SchemeSpec(components=scheme.components, cutoffs=CUTOFFS, rounding="none")

    assert compute_breakdown(scheme, items, {1: ScoreSpec(1, raw_points=D("89.5"))}).letter == "B"


def test_thirds_add_up_exactly():
    # 2 of 3 assignment points is 20 of 30 exactly; with 28-digit decimals it would be 19.999…
    # and a total of 89.5 would round to 89.
    items = [
        ItemSpec(1, "A1", "Assignments", D(3)),
        ItemSpec(2, "Quiz", "Quizzes", D(10)),
        ItemSpec(3, "Mid", "Midterm", D(20)),
        ItemSpec(4, "Project", "Final project", D(30)),
        ItemSpec(5, "Exam", "Final exam", D(20)),
    ]
    scores = {
        1: ScoreSpec(1, raw_points=D(2)),
        2: ScoreSpec(2, raw_points=D("9.5")),
        3: ScoreSpec(3, raw_points=D(20)),
        4: ScoreSpec(4, raw_points=D(20)),
        5: ScoreSpec(5, raw_points=D(20)),
    }

    breakdown = compute_breakdown(SLIDES, items, scores)

    assert breakdown.components[1].share == 20
    assert breakdown.total == D("89.5")
    assert breakdown.letter == "A"


def test_the_component_share_is_points_times_earned_over_possible():
    items = [ItemSpec(1, "Q1", "Quizzes", D(10)), ItemSpec(2, "Q2", "Quizzes", D(5))]
    scores = {1: ScoreSpec(1, raw_points=D(8)), 2: ScoreSpec(2, raw_points=D(4))}

    quizzes = compute_breakdown(SLIDES, items, scores).components[0]

    assert (quizzes.earned, quizzes.possible, quizzes.share) == (12, 15, 8)


def test_an_item_without_a_score_does_not_count_but_missing_counts_zero():
    items = [ItemSpec(1, "Q1", "Quizzes", D(10)), ItemSpec(2, "Q2", "Quizzes", D(10))]

    ungraded = compute_breakdown(SLIDES, items, {1: ScoreSpec(1, raw_points=D(10))})
    missing = compute_breakdown(
        SLIDES, items, {1: ScoreSpec(1, raw_points=D(10)), 2: ScoreSpec(2, Status.MISSING)}
    )

    assert ungraded.components[0].share == 10
    assert ungraded.item(2).state == ItemState.UNGRADED
    assert missing.components[0].share == 5


def test_an_excused_item_counts_for_neither_sum():
    items = [ItemSpec(1, "Q1", "Quizzes", D(10)), ItemSpec(2, "Q2", "Quizzes", D(10))]
    scores = {1: ScoreSpec(1, raw_points=D(6)), 2: ScoreSpec(2, Status.EXCUSED, raw_points=D(0))}

    breakdown = compute_breakdown(SLIDES, items, scores)

    assert breakdown.components[0].share == 6
    assert breakdown.item(2).state == ItemState.EXCUSED


def quiz_scheme(drop: int) -> SchemeSpec:
    return SchemeSpec(
        components=(ComponentSpec("Quizzes", D(10), drop_lowest=drop),), cutoffs=CUTOFFS
    )


def test_it_drops_the_lowest_percentages_but_never_a_never_drop_item():
    items = [
        ItemSpec(1, "Q1", "Quizzes", D(10), never_drop=True),
        ItemSpec(2, "Q2", "Quizzes", D(10)),
        ItemSpec(3, "Q3", "Quizzes", D(20)),
        ItemSpec(4, "Q4", "Quizzes", D(10)),
    ]
    scores = {
        1: ScoreSpec(1, raw_points=D(1)),  # lowest, but never dropped
        2: ScoreSpec(2, raw_points=D(3)),  # 30 %: dropped
        3: ScoreSpec(3, raw_points=D(8)),  # 40 %: dropped
        4: ScoreSpec(4, raw_points=D(9)),
    }

    breakdown = compute_breakdown(quiz_scheme(2), items, scores)

    states = {i: breakdown.item(i).state for i in (1, 2, 3, 4)}
    assert states == {1: "counted", 2: "dropped", 3: "dropped", 4: "counted"}
    assert breakdown.components[0].share == 5  # 10 × (1 + 9) / 20


def test_it_never_drops_every_item():
    items = [ItemSpec(1, "Q1", "Quizzes", D(10))]

    breakdown = compute_breakdown(quiz_scheme(3), items, {1: ScoreSpec(1, raw_points=D(4))})

    assert breakdown.item(1).state == ItemState.COUNTED
    assert breakdown.components[0].share == 4


def test_excused_and_ungraded_items_are_not_dropped():
    items = [ItemSpec(i, f"Q{i}", "Quizzes", D(10)) for i in (1, 2, 3)]
    scores = {1: ScoreSpec(1, raw_points=D(9)), 2: ScoreSpec(2, Status.EXCUSED)}

    breakdown = compute_breakdown(quiz_scheme(1), items, scores)

    assert [breakdown.item(i).state for i in (1, 2, 3)] == ["counted", "excused", "ungraded"]


@pytest.mark.parametrize(
    ("late_by", "days"),
    [
        (datetime.timedelta(0), 0),
        (datetime.timedelta(seconds=1), 1),
        (datetime.timedelta(days=1), 1),
        (datetime.timedelta(days=1, seconds=1), 2),
        (datetime.timedelta(days=-3), 0),
    ],
)
def test_lateness_counts_started_days(late_by, days):
    assert days_late(DUE + late_by, DUE) == days


@pytest.mark.parametrize(("days", "kept"), [(0, 1), (1, D("0.9")), (7, D("0.3")), (8, 0), (30, 0)])
def test_the_default_late_policy_takes_ten_percent_a_day_and_nothing_after_a_week(days, kept):
    assert LatePolicy().kept(days) == kept


def test_a_floor_keeps_a_minimum_of_the_points():
    policy = LatePolicy(percent_per_day=D(25), floor_percent=D(40), max_days_late=10)

    assert [policy.kept(d) for d in (1, 2, 3, 10, 11)] == [
        D("0.75"),
        D("0.5"),
        D("0.4"),
        D("0.4"),
        0,
    ]


def late_item() -> list[ItemSpec]:
    return [ItemSpec(1, "A1", "Assignments", D(10), due_at=DUE)]


def test_a_late_submission_shows_its_penalty():
    score = ScoreSpec(1, raw_points=D(8), submitted_at=DUE + datetime.timedelta(hours=30))

    result = compute_breakdown(SLIDES, late_item(), {1: score}).item(1)

    assert (result.days_late, result.raw_points, result.penalty, result.earned) == (
        2,
        8,
        D("1.6"),
        D("6.4"),
    )


def test_an_extension_moves_the_due_date_for_that_student():
    score = ScoreSpec(1, raw_points=D(8), submitted_at=DUE + datetime.timedelta(hours=30))
    extended = {1: DUE + datetime.timedelta(days=2)}

    result = compute_breakdown(SLIDES, late_item(), {1: score}, extended).item(1)

    assert (result.due_at, result.days_late, result.penalty, result.earned) == (
        extended[1],
        0,
        0,
        8,
    )


def test_a_component_can_have_its_own_late_policy():
    scheme = SchemeSpec(
        components=(ComponentSpec("Assignments", D(30), late_policy=LatePolicy(D(50), D(0), 1)),),
        cutoffs=CUTOFFS,
    )
    score = ScoreSpec(1, raw_points=D(8), submitted_at=DUE + datetime.timedelta(hours=1))

    assert compute_breakdown(scheme, late_item(), {1: score}).item(1).earned == 4


def test_an_override_is_final_and_keeps_the_raw_score_beside_it():
    score = ScoreSpec(
        1,
        raw_points=D(4),
        submitted_at=DUE + datetime.timedelta(days=3),
        override_points=D(9),
    )

    result = compute_breakdown(SLIDES, late_item(), {1: score}).item(1)

    assert (result.raw_points, result.earned, result.penalty, result.overridden) == (4, 9, 0, True)


def test_a_team_score_with_a_member_adjustment_stays_within_the_maximum():
    items = [ItemSpec(1, "Project", "Final project", D(100))]

    up = compute_breakdown(SLIDES, items, {1: ScoreSpec(1, raw_points=D(95), adjustment=D(10))})
    down = compute_breakdown(SLIDES, items, {1: ScoreSpec(1, raw_points=D(80), adjustment=D(-5))})

    assert up.item(1).earned == 100
    assert down.item(1).earned == 75
    assert down.components[3].share == D("22.5")


def test_a_students_own_view_counts_only_published_items():
    items = [
        ItemSpec(1, "Q1", "Quizzes", D(10), published=True),
        ItemSpec(2, "Q2", "Quizzes", D(10), published=False),
    ]
    scores = {1: ScoreSpec(1, raw_points=D(10)), 2: ScoreSpec(2, raw_points=D(0))}

    staff = compute_breakdown(SLIDES, items, scores)
    own = compute_breakdown(SLIDES, items, scores, only_published=True)

    assert staff.components[0].share == 5
    assert own.components[0].share == 10
    assert own.item(2).state == ItemState.HIDDEN
    assert own.only_published


def test_what_do_i_need_finds_the_lowest_uniform_percentage():
    scheme, _ = one_item_scheme(D(110))
    items = [ItemSpec(1, "Half", "All", D(55)), ItemSpec(2, "Rest", "All", D(55))]
    scores = {1: ScoreSpec(1, raw_points=D(50))}  # so far 50/55

    needs = {n.letter: n for n in what_do_i_need(scheme, items, scores)}

    # The share is 110 × (50 + 55p) / 110 = 50 + 55p; A needs 89.5 → p ≥ 71.9 %.
    assert needs["A"].percent == D("71.9")
    assert needs["B"].percent == D("46.4")  # 75.5 - 50 = 25.5 → 46.36… → 46.4
    assert needs["C"].secured is False and needs["C"].percent == D("17.3")


def test_what_do_i_need_says_out_of_reach_and_secured():
    scheme, _ = one_item_scheme(D(110))
    items = [ItemSpec(1, "Big", "All", D(100)), ItemSpec(2, "Small", "All", D(10))]

    low = {n.letter: n for n in what_do_i_need(scheme, items, {1: ScoreSpec(1, raw_points=D(0))})}
    high = {n.letter: n for n in what_do_i_need(scheme, items, {1: ScoreSpec(1, raw_points=D(99))})}

    assert low["A"].percent is None and low["C"].percent is None
    assert high["A"].secured and high["A"].percent == 0


def test_in_a_students_view_unpublished_items_are_still_to_come():
    scheme, _ = one_item_scheme(D(110))
    items = [
        ItemSpec(1, "Seen", "All", D(55), published=True),
        ItemSpec(2, "Hidden", "All", D(55), published=False),
    ]
    scores = {1: ScoreSpec(1, raw_points=D(50)), 2: ScoreSpec(2, raw_points=D(0))}

    own = {n.letter: n for n in what_do_i_need(scheme, items, scores, only_published=True)}
    staff = {n.letter: n for n in what_do_i_need(scheme, items, scores)}

    assert own["A"].percent == D("71.9")  # the hidden 0 is not held against the student
    assert staff["A"].percent is None  # staff know it: nothing remains, A is out of reach


def test_a_component_without_items_yet_is_still_to_come():
    items = [ItemSpec(1, "Quiz", "Quizzes", D(10))]
    scores = {1: ScoreSpec(1, raw_points=D(10))}  # 10 of 110 so far; 100 points have no items yet

    needs = {n.letter: n for n in what_do_i_need(SLIDES, items, scores)}

    # 10 + 100p ≥ 89.5 → p ≥ 79.5 %
    assert needs["A"].percent == D("79.5") and not needs["A"].secured
