"""The slides' scheme on the shared ``course``, and items to score."""

from __future__ import annotations

import datetime

import pytest

from grading.services.items import graded_item_create
from grading.services.schemes import grading_scheme_create

SLIDES = [
    {"name": "Quizzes", "points": "10"},
    {"name": "Assignments", "points": "30"},
    {"name": "Midterm", "points": "20"},
    {"name": "Final project", "points": "30"},
    {"name": "Final exam", "points": "20"},
]
LETTERS = [
    {"letter": "A", "min_points": "90"},
    {"letter": "B", "min_points": "76"},
    {"letter": "C", "min_points": "60"},
    {"letter": "D", "min_points": "0"},
]
DUE = datetime.datetime(2026, 10, 1, 20, 59, tzinfo=datetime.UTC)


@pytest.fixture
def scheme(course):
    return grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)


@pytest.fixture
def quiz(scheme, course):
    return graded_item_create(
        course=course, component="Quizzes", name="Quiz 1", max_points=10, published=True
    )


@pytest.fixture
def assignment(scheme, course):
    return graded_item_create(
        course=course,
        component="Assignments",
        name="A1",
        max_points=10,
        due_at=DUE,
        published=True,
    )


@pytest.fixture
def midterm(scheme, course):
    return graded_item_create(
        course=course, component="Midterm", name="Midterm theory", max_points=10
    )
