"""The feedback page of a graded notebook: each cell with its points, output and errors, for the
student who submitted it and for staff, never a hidden test and never the student's HTML."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from nbformat.v4 import new_markdown_cell, new_output

from autograder import blobs, notebooks
from autograder.models import Assignment, GradingRun, ManualGrade, Submission, SubmissionState
from autograder.services.intake import submission_create
from autograder.tasks import grade_submission_task
from tests.autograder.nbfactory import HIDDEN_TEST, source_notebook, student_notebook

URL = "/courses/pmldl/assignments/a1/submissions/1/feedback/"
HIDDEN_ONLY = "relu(3) == 3"  # in the hidden test and nowhere else
TEST_CELL = 2  # intro, relu, test_relu, why_relu, then the student's extra cells
TESTS = [
    {"name": "test_relu", "score": "2.000", "max_score": "2", "status": "passed", "output": ""},
    {"name": "why_relu", "score": None, "max_score": "1", "status": "manual", "output": ""},
]
HIDDEN_TRACEBACK = [
    "\x1b[0;31mAssertionError\x1b[0m    Traceback (most recent call last)",
    "Cell \x1b[0;32mIn[2], line 3\x1b[0m",
    "\x1b[0;32m----> 3\x1b[0m " + HIDDEN_TEST,
    "\x1b[0;31mAssertionError\x1b[0m: relu(3) should be 3",
]
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()


def executed(*, extra_cells=(), outputs=None) -> bytes:
    """The notebook as the worker runs it (test cells with their hidden part), with ``outputs``
    (cell index → outputs) as if it had run."""
    submitted = notebooks.read(student_notebook(extra_cells=extra_cells))
    notebook = notebooks.restore(submitted, source_notebook()).notebook
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for count, cell in enumerate(code, start=1):
        cell.execution_count = count
    for index, cell_outputs in (outputs or {}).items():
        notebook.cells[index].outputs = cell_outputs
    return notebooks.dumps(notebook)


def graded(assignment, student, *, notebook: bytes | None, tests=TESTS, notes=()):
    """A submission with a grading run made directly, without the sandbox; ``notebook``: the
    executed notebook it kept, if any."""
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    GradingRun.objects.create(
        submission=submission,
        worker="test",
        isolation="none",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        duration_seconds=0.5,
        score=Decimal(2),
        max_score=Decimal(3),
        tests=tests,
        notes=list(notes),
        executed_sha256=blobs.put(notebook) if notebook is not None else "",
    )
    Submission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.GRADED, score=Decimal(2), max_score=Decimal(3)
    )
    return submission


def page(client, user, url=URL) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_each_cell_with_its_points_and_output(client, student, assignment):
    printing = {4: [new_output("stream", name="stdout", text="hello from the student\n")]}
    submission = graded(
        assignment, student, notebook=executed(extra_cells=["print('hi')"], outputs=printing)
    )
    ManualGrade.objects.create(
        submission=submission, grade_id="why_relu", points=1, comment="Good point."
    )

    html = page(client, student)

    assert "test_relu" in html and "2 / 2 points" in html and "passed" in html
    assert "why_relu" in html and "1 / 1 points" in html and "Good point." in html
    assert "return max(0, x)" in html and "hello from the student" in html
    assert "2 / 3" in html  # the total
    assert URL in page(client, student, "/courses/pmldl/assignments/a1/")


def test_it_never_shows_a_hidden_test(client, student, assignment):
    quoted = json.dumps(source_notebook().cells[TEST_CELL].source)  # the notebook file, printed
    outputs = {
        TEST_CELL: [
            new_output("stream", name="stdout", text="printed by the hidden test\n"),
            new_output(
                "error",
                ename="AssertionError",
                evalue="relu(3) should be 3",
                traceback=HIDDEN_TRACEBACK,
            ),
        ],
        4: [new_output("stream", name="stdout", text=quoted)],
    }
    failed = [{**TESTS[0], "score": "0.000", "status": "failed"}, TESTS[1]]
    graded(
        assignment,
        student,
        tests=failed,
        notebook=executed(extra_cells=["print(open('submission.ipynb').read())"], outputs=outputs),
    )

    html = page(client, student)

    assert "assert relu(-1) == 0" in html  # the visible part
    assert "AssertionError" in html and "0 / 2 points" in html
    assert HIDDEN_ONLY not in html and "HIDDEN TESTS" not in html
    assert "printed by the hidden test" not in html


def test_it_shows_a_students_html_as_nothing_but_text(client, student, assignment):
    script = "<script>alert('owned')</script>"
    outputs = {
        4: [
            new_output("display_data", data={"text/html": script, "application/javascript": "x"}),
            new_output("execute_result", execution_count=1, data={"text/plain": script}),
        ]
    }
    notebook = notebooks.read(executed(extra_cells=["show()"], outputs=outputs))
    notebook.cells.append(new_markdown_cell(f"# Look\n{script}"))
    graded(assignment, student, notebook=notebooks.dumps(notebook))

    html = page(client, student)

    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(") == 2  # as text: the text/plain output, the markdown
    assert "application/javascript, text/html: not shown here" in html


def test_it_shows_a_png_but_not_anything_else_called_one(client, student, assignment):
    outputs = {
        4: [
            new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
            new_output("display_data", data={"image/png": "not base64 at all!"}),
            new_output("display_data", data={"image/png": base64.b64encode(b"GIF89a").decode()}),
        ]
    }
    graded(assignment, student, notebook=executed(extra_cells=["plot()"], outputs=outputs))

    html = page(client, student)

    assert html.count("data:image/png;base64,") == 1 and PNG in html
    assert "not base64 at all" not in html


def test_it_cuts_a_flood_of_output_and_says_so(client, student, assignment):
    flood = {4: [new_output("stream", name="stdout", text="y" * 50_000)]}
    graded(assignment, student, notebook=executed(extra_cells=["flood()"], outputs=flood))

    html = page(client, student)

    assert "y" * 20_000 in html and "y" * 20_001 not in html
    assert "Output cut: 30000 more characters not shown." in html


def test_another_student_and_an_outsider_get_404(
    client, student, other_student, outsider, assignment
):
    graded(assignment, student, notebook=executed())

    for user, url in [
        (other_student, URL),
        (other_student, URL + "?student=student"),
        (outsider, URL),
    ]:
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_staff_see_a_students_feedback(client, ta, student, assignment):
    graded(assignment, student, notebook=executed())

    html = page(client, ta, URL + "?student=student")

    assert "test_relu" in html and "2 / 2 points" in html and "(student)" in html
    assert HIDDEN_ONLY not in html
    assert URL + "?student=student" in page(client, ta, "/courses/pmldl/assignments/a1/manual/")


def test_a_submission_without_an_executed_notebook_says_so(client, student, assignment):
    timed_out = [{**TESTS[0], "score": "0", "status": "failed", "output": "Stopped."}, TESTS[1]]
    graded(assignment, student, notebook=None, tests=timed_out, notes=["It ran too long."])

    html = page(client, student)

    assert "No executed notebook was kept" in html and "It ran too long." in html
    assert "test_relu" in html and "0 / 2 points" in html and "Stopped." in html


def test_an_unreadable_notebook_or_no_grading_yet_is_said_plainly(client, student, assignment):
    graded(assignment, student, notebook=b"{not json")
    submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )

    assert "could not be read" in page(client, student)
    assert "has not been graded yet" in page(client, student, URL.replace("/1/", "/2/"))


def test_an_assignment_of_python_files_shows_its_tests(client, student, assignment):
    graded(assignment, student, notebook=None)
    Assignment.objects.filter(pk=assignment.pk).update(kind="python")

    html = page(client, student)

    assert "test_relu" in html and "2 / 2 points" in html and "could not be read" not in html


@pytest.mark.slow
def test_a_real_grading_shows_the_students_cells_and_hides_the_hidden_test(
    client, student, assignment
):
    submitted = student_notebook("    return 0", extra_cells=["print('hello from the kernel')"])
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": submitted}
    )
    grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="f1").get()

    html = page(client, student)

    assert "hello from the kernel" in html and "0 / 2 points" in html
    assert "AssertionError" in html
    assert HIDDEN_ONLY not in html and "HIDDEN TESTS" not in html


@pytest.mark.slow
def test_students_see_notes_but_not_the_sandbox_log(client, student, assignment):
    submitted = student_notebook("    return max(0, x)\nimport os\nos.write(2, b'RAW-STDERR')")
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": submitted}
    )
    grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="n1").get()
    client.force_login(student)

    html = client.get("/courses/pmldl/assignments/a1/").content.decode()

    assert "RAW-STDERR" in submission.runs.get().log  # staff have it
    assert "RAW-STDERR" not in html
