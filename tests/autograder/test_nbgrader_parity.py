"""nbgrader's own examples, imported and graded by our pipeline, score as ``nbgrader autograde``
scores them, run for real beside ours: the same points per cell and the same cells left for a TA.

- The user guide's ``ps1``, two notebooks and an image: bitdiddle's and hacker's submissions, the
  release handed back untouched, a student who submitted only ``problem2.ipynb``, and hacker's
  notebooks with two answer cells deleted.

(Where we differ on purpose: a deleted test or locked cell is put back and run here, as nbgrader
does with ``add_missing_cells``; by default nbgrader leaves its grade for a TA.)
- nbgrader's test notebook of answer cells (``submitted-unchanged.ipynb`` as the source, as
  nbgrader's own tests use it): unchanged, changed, and with a test or a locked cell edited.
"""

from __future__ import annotations

from decimal import Decimal

import nbformat
import pytest

from autograder.services.assignments import assignment_import
from autograder.services.autograde import grade_files
from grading.services.schemes import grading_scheme_create
from tests.autograder import nbgrader_course
from tests.autograder.nbgrader_course import TEST_FILES, USER_GUIDE, folder
from tests.grading.conftest import LETTERS, SLIDES

pytestmark = pytest.mark.slow


def ours(assignment, files: dict[str, bytes], *, several: bool) -> dict:
    """Our grading of ``files``, keyed like nbgrader's: (notebook, grade id) → (score, for a TA)."""
    grade = grade_files(assignment, files)
    found = {}
    for test in grade.tests:
        notebook, _, gid = test.name.rpartition("/") if several else ("p1", "", test.name)
        manual = test.status == "manual"
        found[(notebook, gid)] = (None if manual else test.score, manual)
    return found


def without(path, *grade_ids: str) -> bytes:
    """The notebook at ``path`` with the cells of ``grade_ids`` deleted."""
    notebook = nbformat.read(path, as_version=4)
    kept = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids
    ]
    notebook.cells = kept
    return nbformat.writes(notebook).encode()


def normalized(cells: dict) -> dict:
    return {k: (None if s is None else Decimal(s).normalize(), m) for k, (s, m) in cells.items()}


@pytest.fixture
def ps1(course):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    return assignment_import(course=course, slug="ps1", files=folder(USER_GUIDE / "source" / "ps1"))


def test_it_grades_the_user_guides_ps1_as_nbgrader_does(ps1, tmp_path):
    hacker = USER_GUIDE / "submitted" / "hacker" / "ps1"
    submitted = {
        "bitdiddle": folder(USER_GUIDE / "submitted" / "bitdiddle" / "ps1", suffix=".ipynb"),
        "hacker": folder(USER_GUIDE / "submitted" / "hacker" / "ps1", suffix=".ipynb"),
        "untouched": folder(USER_GUIDE / "release" / "ps1", suffix=".ipynb"),
        "only_problem2": {
            "problem2.ipynb": (USER_GUIDE / "submitted/hacker/ps1/problem2.ipynb").read_bytes()
        },
        "deleted_answers": {
            "problem1.ipynb": without(hacker / "problem1.ipynb", "sum_of_squares_application"),
            "problem2.ipynb": without(hacker / "problem2.ipynb", "part-a"),
        },
    }
    theirs = nbgrader_course.autograde(tmp_path, folder(USER_GUIDE / "source" / "ps1"), submitted)

    for student, files in submitted.items():
        assert normalized(ours(ps1, files, several=True)) == normalized(theirs[student]), student
    # What the comparison covers: tests passed and failed, answers left for a TA, untouched
    # answers at 0, and a notebook not handed in at 0 throughout.
    assert theirs["bitdiddle"][("problem1", "sum_of_squares_application")] == (0, False)
    assert theirs["hacker"][("problem1", "sum_of_squares_application")] == (None, True)
    assert theirs["untouched"][("problem2", "part-a")] == (0, False)
    assert theirs["only_problem2"][("problem1", "cell-938593c4a215c6cc")] == (0, False)
    assert theirs["deleted_answers"][("problem2", "part-a")] == (None, True)


def test_it_grades_nbgraders_answer_cells_as_nbgrader_does(course, tmp_path):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    source = (TEST_FILES / "submitted-unchanged.ipynb").read_bytes()
    assignment = assignment_import(course=course, slug="p1", files={"p1.ipynb": source})
    students = ("unchanged", "changed", "grade-cell-changed", "locked-cell-changed")
    submitted = {
        name: {"p1.ipynb": (TEST_FILES / f"submitted-{name}.ipynb").read_bytes()}
        for name in students
    }

    theirs = nbgrader_course.autograde(tmp_path, {"p1.ipynb": source}, submitted)

    for student, files in submitted.items():
        assert normalized(ours(assignment, files, several=False)) == normalized(theirs[student])
    assert theirs["unchanged"][("p1", "quux")] == (0, False)  # an untouched code answer
    assert theirs["changed"][("p1", "baz")] == (None, True)  # a written answer, answered
