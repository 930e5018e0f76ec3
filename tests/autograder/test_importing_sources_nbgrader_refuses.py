"""A source that nbgrader itself refuses is refused at import with nbgrader's reason, on the page
and by the service, and nothing is stored: metadata of an older schema (nbgrader's own
``test-v0/v1/v2.ipynb``, which ``nbgrader update`` upgrades), of a newer one (``too-new.ipynb``),
solution regions in cells without nbgrader metadata (``test-no-metadata.ipynb``), and metadata
that nbgrader's validator rejects (a duplicated grade id, a grade cell without points, a solution
region with no end). They used to escape as nbgrader's own exceptions: a server error."""

from __future__ import annotations

import nbformat
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from autograder.models import Assignment
from autograder.services.assignments import assignment_import
from grading.services.schemes import grading_scheme_create
from tests.autograder.nbfactory import source_notebook
from tests.autograder.nbgrader_course import TEST_FILES
from tests.grading.conftest import LETTERS, SLIDES

NBGRADERS_OWN = {
    "test-v0.ipynb": "schema version 0, older than the version 3 this grader reads: run "
    "`nbgrader update`",
    "test-v1.ipynb": "schema version 1, older than the version 3",
    "test-v2.ipynb": "schema version 2, older than the version 3",
    "test-v0-invalid.ipynb": "schema version 0",
    "too-new.ipynb": "made by a newer nbgrader (metadata schema version 10",
    "test-no-metadata.ipynb": "Solution region detected in a non-solution cell",
    "test-no-metadata-autotest.ipynb": "Solution region detected in a non-solution cell",
}


def edited(change) -> bytes:
    notebook = source_notebook()
    change(notebook)
    return nbformat.writes(notebook).encode()


def _graded_cells(notebook):
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]


def duplicate_grade_id(notebook):
    first, second = _graded_cells(notebook)[:2]
    second.metadata.nbgrader.grade_id = first.metadata.nbgrader.grade_id


def no_points(notebook):
    del _graded_cells(notebook)[0].metadata.nbgrader["points"]


def no_end_of_solution(notebook):
    solution = next(c for c in notebook.cells if "### END SOLUTION" in c.source)
    solution.source = solution.source.replace("### END SOLUTION", "")


BROKEN = {
    "duplicate grade id": (duplicate_grade_id, "Duplicate grade id"),
    "a grade cell without points": (no_points, "does not have points"),
    "no end of a solution": (no_end_of_solution, "no end solution statement found"),
}


@pytest.fixture
def scheme(course, instructor):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)


@pytest.mark.parametrize("name", sorted(NBGRADERS_OWN))
def test_it_refuses_nbgraders_own_examples_with_nbgraders_reason(course, scheme, name):
    with pytest.raises(ValidationError) as refused:
        assignment_import(course=course, slug="old", files={name: (TEST_FILES / name).read_bytes()})

    assert NBGRADERS_OWN[name] in refused.value.messages[0]
    assert name in refused.value.messages[0]
    assert not Assignment.objects.filter(slug="old").exists()


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_it_refuses_metadata_nbgraders_validator_rejects(course, scheme, case):
    change, reason = BROKEN[case]

    with pytest.raises(ValidationError, match=reason):
        assignment_import(course=course, slug="broken", files={"a1.ipynb": edited(change)})

    assert not Assignment.objects.exists()


def test_the_import_page_says_why_instead_of_failing(client, course, scheme, instructor):
    client.force_login(instructor)
    upload = SimpleUploadedFile("test-v1.ipynb", (TEST_FILES / "test-v1.ipynb").read_bytes())

    page = client.post("/courses/pmldl/assignments/import/", {"slug": "ps0", "files": [upload]})

    assert page.status_code == 400
    assert "run `nbgrader update` on it" in page.content.decode()
    assert not Assignment.objects.exists()
