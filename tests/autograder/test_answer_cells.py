"""Answer cells scored as nbgrader scores them. One the student never touched scores 0 (its
checksum is the released one: ``determine_grade``) instead of waiting for a TA, written answers
and code answers alike; one the student deleted waits for a TA with its points (nbgrader's
``needs_manual_grade``), rather than dropping out of the total. A task stays with the TA."""

from __future__ import annotations

import nbformat
import pytest

from autograder import cell_scores, notebooks, selectors
from autograder.services.assignments import assignment_import
from autograder.services.intake import submission_create
from autograder.tasks import grade_submission_task
from grading.services.schemes import grading_scheme_create
from tests.autograder.nbfactory import meta, source_notebook
from tests.grading.conftest import LETTERS, SLIDES

CODE_ANSWER = "def usecase():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION"


def source() -> nbformat.NotebookNode:
    """nbfactory's ReLU notebook (a test, a written answer ``why_relu``), a code answer graded by
    hand (``usecase``), and a task (``task``)."""
    notebook = source_notebook()
    task = meta("task", locked=True, points=3)
    task["nbgrader"]["task"] = True
    notebook.cells += [
        nbformat.v4.new_code_cell(
            CODE_ANSWER, metadata=meta("usecase", grade=True, solution=True, points=2)
        ),
        nbformat.v4.new_markdown_cell("Describe ReLU's gradient.", metadata=task),
    ]
    return notebook


def scored(edit=None) -> dict:
    """The release handed back (changed by ``edit``), restored and scored as if it ran."""
    student = notebooks.release_version(source())
    if edit:
        edit(student)
    executed = notebooks.restore(student, source()).notebook
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.execution_count = 1
    expected = notebooks.graded_ids(source())
    scores = cell_scores.score(executed, expected=expected, source=source())
    return {s.name: (s.score, s.max_score, s.status) for s in scores}


def test_it_scores_untouched_answers_zero_and_leaves_the_task_to_a_ta():
    scores = scored()

    assert scores["why_relu"] == (0, 1, "unanswered")
    assert scores["usecase"] == (0, 2, "unanswered")
    assert scores["task"] == (None, 3, "manual")


def test_it_leaves_answered_cells_to_a_ta():
    def answer(notebook):
        notebook.cells[3].source = "It does not saturate."
        notebook.cells[4].source = "def usecase():\n    return 7"

    scores = scored(answer)

    assert scores["why_relu"] == (None, 1, "manual") and scores["usecase"] == (None, 2, "manual")


def test_it_takes_an_emptied_answer_as_an_answer_as_nbgrader_does():
    def empty(notebook):
        notebook.cells[3].source = ""

    assert scored(empty)["why_relu"] == (None, 1, "manual")


def test_it_does_not_believe_a_checksum_the_student_wrote():
    def forge(notebook):
        from nbgrader.utils import compute_checksum

        notebook.cells[3].source = "It does not saturate."
        notebook.cells[3].metadata.nbgrader["checksum"] = compute_checksum(notebook.cells[3])

    assert scored(forge)["why_relu"] == (None, 1, "manual")  # the release's checksum is compared


def test_it_sends_a_deleted_answer_to_a_ta_with_its_points():
    def delete(notebook):
        del notebook.cells[3:5]  # why_relu and usecase

    scores = scored(delete)

    assert scores["why_relu"] == (None, 1, "manual") and scores["usecase"] == (None, 2, "manual")
    assert scores["test_relu"][1] == 2  # the test is still there, worth its points


@pytest.mark.slow
def test_it_sends_no_untouched_answer_to_hand_grading(client, course, student):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    assignment = assignment_import(
        course=course, slug="a1", files={"a1.ipynb": nbformat.writes(source()).encode()}
    )
    release = nbformat.writes(notebooks.release_version(source())).encode()
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": release}
    )

    grade_submission_task.apply(kwargs={"submission_pk": submission.pk}).get()

    submission.refresh_from_db()
    statuses = {t["name"]: t["status"] for t in submission.runs.get().tests}
    assert statuses == {
        "test_relu": "failed",
        "why_relu": "unanswered",
        "usecase": "unanswered",
        "task": "manual",
    }
    assert (submission.score, submission.max_score) == (0, 8)
    assert [c.grade_id for c in selectors.manual_grading_queue(assignment=assignment)] == ["task"]
    client.force_login(student)
    page = client.get("/courses/pmldl/assignments/a1/submissions/1/feedback/").content.decode()
    assert "not answered" in page and "as it was handed out" in page
