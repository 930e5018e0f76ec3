"""A grading scheme is validated before it is stored (by the service and the API), a new one is a
new version, and an item belongs to a component of the current one."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from grading.selectors import grading_scheme_current
from grading.services.items import graded_item_create
from grading.services.schemes import grading_scheme_create

SLIDES = [
    {"name": "Quizzes", "points": 10},
    {"name": "Assignments", "points": "30"},
    {"name": "Midterm", "points": 20},
    {"name": "Final project", "points": 30},
    {"name": "Final exam", "points": 20},
]


def cutoffs(*pairs) -> list[dict]:
    """``cutoffs("A", 90, "D", 0)`` → the list of dicts the service takes."""
    letters, bounds = pairs[::2], pairs[1::2]
    return [{"letter": ltr, "min_points": b} for ltr, b in zip(letters, bounds, strict=True)]


LETTERS = cutoffs("A", 90, "B", 76, "C", 60, "D", 0)


def test_it_stores_components_and_cutoffs_as_exact_decimals(course):
    scheme = grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)

    assert scheme.version == 1
    assert scheme.components[0] == {
        "name": "Quizzes",
        "points": "10",
        "drop_lowest": 0,
        "late_policy": None,
    }
    assert scheme.late_policy == {"percent_per_day": "10", "floor_percent": "0", "max_days_late": 7}
    assert scheme.letter_cutoffs[1] == {"letter": "B", "min_points": "76"}


def test_a_new_scheme_is_a_new_version_and_the_old_one_stays(course):
    first = grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    changed = [*LETTERS[:1], {"letter": "B", "min_points": "75.5"}, *LETTERS[2:]]

    second = grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=changed)

    first.refresh_from_db()
    assert (first.version, second.version) == (1, 2)
    assert first.letter_cutoffs[1]["min_points"] == "76"
    assert grading_scheme_current(course=course) == second


@pytest.mark.parametrize(
    ("cutoffs", "message"),
    [
        (cutoffs("A", 90, "B", 95, "D", 0), "Cutoffs must descend: B starts at 95"),
        (cutoffs("A", 90, "B", 90, "D", 0), "Cutoffs must descend"),
        (cutoffs("A", 90, "C", 60), "must start at 0"),
        (cutoffs("A", 120, "D", 0), "above the 110 points"),
        (cutoffs("A", 90, "A", 0), "Each letter appears once"),
        (cutoffs("A", "ninety", "D", 0), "must be a number"),
        (cutoffs("A", "NaN", "D", 0), "finite number"),
        ([], "at least one letter cutoff"),
    ],
)
def test_it_refuses_bad_cutoffs_and_says_why(course, cutoffs, message):
    with pytest.raises(ValidationError, match=message):
        grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=cutoffs)


@pytest.mark.parametrize(
    ("components", "message"),
    [
        ([], "at least one component"),
        ([{"name": "Quizzes", "points": 0}], "must be positive"),
        ([{"name": "Quizzes", "points": 5}, {"name": "Quizzes", "points": 5}], "different"),
    ],
)
def test_it_refuses_bad_components(course, components, message):
    with pytest.raises(ValidationError, match=message):
        grading_scheme_create(course=course, components=components, letter_cutoffs=LETTERS[-1:])


def test_an_item_needs_a_component_of_the_current_scheme(course, scheme):
    with pytest.raises(ValidationError, match="no component 'Homework'"):
        graded_item_create(course=course, component="Homework", name="H1", max_points=5)


def test_a_scheme_without_names_says_so(api_as, instructor, scheme):
    body = {"components": [{"points": 10}], "letter_cutoffs": [{"letter": "A"}]}

    response = api_as(instructor).post("/api/courses/pmldl/scheme/", body, format="json")

    assert response.status_code == 400
    assert "Component 1 needs name and points" in str(response.json())
