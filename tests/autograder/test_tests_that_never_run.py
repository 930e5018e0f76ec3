"""No points for a test that never runs. nbgrader's ``### AUTOTEST`` directives are expanded into
asserts by ``nbgrader generate_assignment``; this grader does not expand them, and unexpanded they
are comments, a test that passes whatever the student wrote. So a source that uses them (or has
a test cell worth points with no code at all) is refused at import with the reason, and one stored
before fails its grading for staff to see, never giving a score."""

from __future__ import annotations

from io import StringIO

import nbformat
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from autograder import blobs
from autograder.models import Assignment, AssignmentFile, FileRole, SubmissionState
from autograder.services.assignments import assignment_import
from autograder.services.intake import submission_create
from autograder.tasks import grade_submission_task
from grading.models import Score
from grading.services.schemes import grading_scheme_create
from tests.autograder.nbfactory import meta, source_bytes, source_notebook, student_notebook
from tests.autograder.nbgrader_course import TEST_FILES, USER_GUIDE, folder
from tests.grading.conftest import LETTERS, SLIDES

AUTOTESTS_YML = (USER_GUIDE / "autotests.yml").read_bytes()


@pytest.fixture
def scheme(course):
    return grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)


def with_test(source: str, *, points=1) -> bytes:
    notebook = source_notebook()
    notebook.cells.append(
        nbformat.v4.new_code_cell(source, metadata=meta("extra", grade=True, points=points))
    )
    return nbformat.writes(notebook).encode()


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(
            {**folder(USER_GUIDE / "source" / "ps1_autotest"), "autotests.yml": AUTOTESTS_YML},
            id="user-guide-ps1_autotest",
        ),
        *(
            pytest.param(
                {
                    "p1.ipynb": (TEST_FILES / f"autotest-{kind}.ipynb").read_bytes(),
                    "autotests.yml": (TEST_FILES / "autotests.yml").read_bytes(),
                },
                id=f"autotest-{kind}",
            )
            for kind in ("simple", "hashed", "hidden", "multi")
        ),
        pytest.param({"a1.ipynb": with_test("x = 1\n#HASHED AUTOTEST relu(1)")}, id="mixed"),
    ],
)
def test_it_refuses_a_source_with_autotest_directives(course, scheme, files):
    with pytest.raises(ValidationError, match=r"AUTOTEST directives .* does not expand"):
        assignment_import(course=course, slug="auto", files=files)

    assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    "source",
    ["", "# assert relu(1) == 1", '"""Check relu."""\n# TODO: write the test', "\n\n"],
)
def test_it_refuses_a_test_cell_with_points_and_no_code(course, scheme, source):
    files = {"a1.ipynb": with_test(source)}

    with pytest.raises(ValidationError, match="extra has points but no code"):
        assignment_import(course=course, slug="a1", files=files)


@pytest.mark.parametrize(
    ("source", "points"), [("# nothing to check", 0), ("pass  # a test that always passes", 1)]
)
def test_it_keeps_a_test_cell_that_has_code_or_no_points(course, scheme, source, points):
    files = {"a1.ipynb": with_test(source, points=points)}

    assert assignment_import(course=course, slug="a1", files=files).slug == "a1"


@pytest.fixture
def stored_before(course, scheme):
    """An assignment whose stored source got autotest directives past an older import."""
    assignment = assignment_import(course=course, slug="a1", files={"a1.ipynb": source_bytes()})
    notebook = source_notebook()
    notebook.cells[2].source = "### AUTOTEST relu(-1); relu(3)"
    content = nbformat.writes(notebook).encode()
    AssignmentFile.objects.filter(assignment=assignment, role=FileRole.SOURCE).update(
        sha256=blobs.put(content), size=len(content)
    )
    return assignment


def test_a_source_stored_before_fails_the_grading_instead_of_scoring(stored_before, student):
    submission = submission_create(
        assignment=stored_before, student=student, files={"a1.ipynb": student_notebook()}
    )

    result = grade_submission_task.apply(kwargs={"submission_pk": submission.pk})

    submission.refresh_from_db()
    assert result.failed() and submission.state == SubmissionState.FAILED
    assert submission.score is None and not Score.objects.exists()
    assert "AUTOTEST" in submission.runs.get().error


def test_autograde_says_why_it_cannot_grade_a_source_stored_before(stored_before, tmp_path):
    path = tmp_path / "a1.ipynb"
    path.write_bytes(student_notebook())

    with pytest.raises(CommandError, match="AUTOTEST"):
        call_command("autograde", "--assignment", "a1", str(path), stdout=StringIO())
