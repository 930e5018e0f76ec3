"""A shown total never rounds, or bands, differently from the rounded total and letter beside it.

The exact total 75.4999995 rounds half-up to 75 (C): shown to two or six places it must read 75.49
or 75.499999, never 75.5. The same for every band edge (the half-up edges x.5 and the cutoffs
themselves, with rounding off), for totals a hair under, at and over each, for per-component shares,
and on every place a total is shown: the gradebook page, the student's page and home, the CSV and
the API.
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError

from grading.breakdowns import compute_breakdown
from grading.computation import (
    ComponentSpec,
    Cutoff,
    ItemSpec,
    Rounding,
    SchemeSpec,
    ScoreSpec,
    letter_for,
    shown,
)
from grading.services.items import graded_item_create
from grading.services.schemes import scheme_validate
from grading.services.scores import score_set
from tests.grading.conftest import LETTERS, SLIDES

CUTOFFS = tuple(Cutoff(c["letter"], Decimal(c["min_points"])) for c in LETTERS)
EDGES = [Fraction(e) for e in ("90", "76", "60", "89.5", "75.5", "59.5", "0.5", "100.5")]
OFFSETS = [
    Fraction(0),
    Fraction(-1, 10**7),
    Fraction(-5, 10**7),
    Fraction(-1, 10**6),
    Fraction(-1, 3 * 10**6),
    Fraction(-1, 10**4),
    Fraction(-1, 200),
    Fraction(-51, 10**4),
    Fraction(1, 10**7),
    Fraction(1, 3 * 10**6),
    Fraction(4, 10**3),
    Fraction(-1, 3),
]
TOTALS = sorted({edge + offset for edge in EDGES for offset in OFFSETS if edge + offset >= 0})


def _breakdown(total: Fraction, rounding: Rounding):
    """One student whose exact total is ``total``: one 110-point component, one item whose
    maximum makes the share exactly ``total``."""
    scheme = SchemeSpec((ComponentSpec("All", Decimal(110)),), CUTOFFS, rounding)
    maximum = 110 * total.denominator
    item = ItemSpec(1, "Everything", "All", Decimal(maximum))
    score = ScoreSpec(1, raw_points=Decimal(total.numerator))
    return compute_breakdown(scheme, [item], {1: score})


def _half_up(value: str) -> Decimal:
    return Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("total", TOTALS, ids=str)
@pytest.mark.parametrize("places", [1, 2, 3, 6])
def test_it_shows_a_total_that_rounds_to_the_rounded_total_beside_it(total, places):
    breakdown = _breakdown(total, Rounding.HALF_UP)

    for value in (breakdown.total, total):  # what the breakdown keeps, and the exact total
        text = shown(value, places)
        assert _half_up(text) == breakdown.rounded_total, (total, text)
        assert letter_for(Fraction(_half_up(text)), CUTOFFS) == breakdown.letter
        assert Fraction(Decimal(text)) <= total  # never more than the student has


@pytest.mark.parametrize("total", TOTALS, ids=str)
@pytest.mark.parametrize("places", [2, 6])
def test_without_rounding_a_shown_total_reaches_exactly_the_cutoffs_the_total_reaches(
    total, places
):
    breakdown = _breakdown(total, Rounding.NONE)

    text = shown(breakdown.total, places)

    assert letter_for(Fraction(Decimal(text)), CUTOFFS) == breakdown.letter, (total, text)


def test_a_share_a_hair_under_full_is_not_shown_as_full():
    scheme = SchemeSpec(
        tuple(ComponentSpec(c["name"], Decimal(c["points"])) for c in SLIDES), CUTOFFS
    )
    items = [
        ItemSpec(1, "Quiz", "Quizzes", Decimal(20000)),
        ItemSpec(2, "A1", "Assignments", Decimal(3)),
    ]
    scores = {1: ScoreSpec(1, raw_points=Decimal("19999.999")), 2: ScoreSpec(2, raw_points=ONE)}

    quizzes, assignments, *_ = compute_breakdown(scheme, items, scores).components

    assert shown(quizzes.share) == "9.99"  # 9.9999995 of 10: not full marks
    assert shown(assignments.share) == "10"  # 30 × 1/3, exactly 10
    assert shown(Decimal("29.999"), 2) == "29.99" and shown(Decimal(30), 2) == "30"


ONE = Decimal(1)


def test_shown_writes_numbers_plainly():
    assert [shown(v) for v in (Decimal("8.000"), Decimal("7.50"), 0, Decimal("1E+1"))] == [
        "8",
        "7.5",
        "0",
        "10",
    ]
    assert shown(0.3) == "0.3" and shown(Fraction(2, 3)) == "0.66" and shown("-1.005") == "-1.01"


def test_a_cutoff_with_more_decimals_than_shown_is_refused():
    cutoffs = [{"letter": "A", "min_points": "89.995"}, {"letter": "B", "min_points": "0"}]

    with pytest.raises(ValidationError, match="more than 2 decimals"):
        scheme_validate(components=SLIDES, letter_cutoffs=cutoffs, rounding="none")


# The pages, the CSV and the API, for one student a hair under 75.5 and one exactly on it.


@pytest.fixture
def items(scheme, course):
    def item(component, name, max_points):
        return graded_item_create(
            course=course, component=component, name=name, max_points=max_points, published=True
        )

    return {
        "quiz": item("Quizzes", "Quiz 1", 20000),
        "a1": item("Assignments", "A1", 10),
        "midterm": item("Midterm", "Midterm", 10),
        "project": item("Final project", "Project", 60),
        "exam": item("Final exam", "Exam", 10),
    }


def _score(items, student, ta, quiz_points):
    """4.9999995 (or 5) from the quiz, then 30 + 20 + 0.5 + 20: 75.4999995 (or 75.5)."""
    points = {"quiz": quiz_points, "a1": 10, "midterm": 10, "project": 1, "exam": 10}
    for key, value in points.items():
        score_set(item=items[key], student=student, points=value, by=ta, source="manual")


def test_every_place_shows_a_hair_under_the_edge_below_it(
    client, api_as, items, student, other_student, ta, course
):
    _score(items, student, ta, "9999.999")  # 75.4999995: rounds to 75, C
    _score(items, other_student, ta, "10000")  # 75.5: rounds to 76, B

    client.force_login(ta)
    book = client.get("/courses/pmldl/gradebook/").content.decode()
    export = client.get("/courses/pmldl/gradebook/export.csv").content.decode()
    api = api_as(ta).get("/api/courses/pmldl/gradebook/").json()
    client.force_login(student)
    mine = client.get("/courses/pmldl/grades/").content.decode()
    home = client.get("/courses/pmldl/").content.decode()
    my_api = api_as(student).get("/api/courses/pmldl/grades/me/").json()["breakdown"]

    assert "75.49" in book and "75.5<" not in book and "75.50" not in book
    rows = {r["username"]: r for r in csv.DictReader(io.StringIO(export))}
    assert [rows["student"][k] for k in ("total", "rounded total", "letter")] == [
        "75.499999",
        "75",
        "C",
    ]
    assert rows["student"]["Quizzes total"] == "4.999999"
    assert [rows["other_student"][k] for k in ("total", "rounded total", "letter")] == [
        "75.5",
        "76",
        "B",
    ]
    by_name = {row["username"]: row["breakdown"] for row in api}
    assert (by_name["student"]["total"], by_name["student"]["rounded_total"]) == ("75.499999", "75")
    assert (my_api["total"], my_api["rounded_total"], my_api["letter"]) == ("75.499999", "75", "C")
    assert "75.49" in mine and "rounds half-up to 75" in mine and "75.5" not in mine
    assert "75.49" in home and "75.5" not in home
