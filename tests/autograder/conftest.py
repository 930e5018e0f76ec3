"""An autograded assignment on the shared course: the ReLU notebook of ``nbfactory``."""

from __future__ import annotations

import pytest

from autograder.services.assignments import assignment_import
from grading.services.schemes import grading_scheme_create
from tests.autograder.nbfactory import source_bytes
from tests.grading.conftest import LETTERS, SLIDES


@pytest.fixture
def assignment(course, instructor):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    return assignment_import(
        course=course,
        slug="a1",
        title="A1: ReLU",
        files={"a1.ipynb": source_bytes(), "data.csv": b"x,y\n1,2\n"},
    )
