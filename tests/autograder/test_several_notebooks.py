"""An assignment of several notebooks, as nbgrader's are (the user guide's ``ps1``: two notebooks
and an image): imported together, downloaded together, submitted together (some or all), graded
notebook by notebook with the data beside each, hand-graded without two notebooks' ids meeting."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from io import StringIO

import nbformat
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from autograder import selectors
from autograder.models import FileRole, ManualGrade, Submission
from autograder.notebooks import release_version
from autograder.services.assignments import assignment_import
from autograder.services.autograde import grade_files
from autograder.services.hand_grades import manual_grade_set
from autograder.services.intake import check_submission, submission_create
from autograder.tasks import grade_submission_task
from grading.models import Score
from grading.services.schemes import grading_scheme_create
from tests.autograder.nbfactory import meta, source_bytes, source_notebook, student_notebook
from tests.autograder.nbgrader_course import USER_GUIDE, folder
from tests.grading.conftest import LETTERS, SLIDES

DATA = b"x,y\n1,2\n"


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def ps1(course):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    return assignment_import(
        course=course, slug="ps1", title="PS1", files=folder(USER_GUIDE / "source" / "ps1")
    )


def part(*, reads_data: bool) -> nbformat.NotebookNode:
    """nbfactory's ReLU notebook (a test with a hidden part, a written answer ``why_relu``), the
    same ids in both parts; the second also tests that the data file is beside it."""
    notebook = source_notebook()
    if reads_data:
        notebook.cells.append(
            nbformat.v4.new_code_cell(
                'assert open("data.csv").read() == "x,y\\n1,2\\n"',
                metadata=meta("test_data", grade=True, locked=True, points=1),
            )
        )
    return notebook


@pytest.fixture
def pair(course):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    files = {
        "part1.ipynb": nbformat.writes(part(reads_data=False)).encode(),
        "part2.ipynb": nbformat.writes(part(reads_data=True)).encode(),
        "data.csv": DATA,
    }
    return assignment_import(course=course, slug="pair", title="Pair", files=files)


def answered(notebook: nbformat.NotebookNode, relu_body: str, why: str) -> bytes:
    student = release_version(notebook)
    student.cells[1].source = f"def relu(x):\n{relu_body}"
    student.cells[3].source = why
    return nbformat.writes(student).encode()


def test_it_imports_each_notebook_with_its_student_version(ps1):
    files = sorted(ps1.files.values_list("role", "name"))

    assert files == [
        ("data", "jupyter.png"),
        ("release", "problem1.ipynb"),
        ("release", "problem2.ipynb"),
        ("source", "problem1.ipynb"),
        ("source", "problem2.ipynb"),
    ]
    _, release = selectors.assignment_file(
        assignment=ps1, role=FileRole.RELEASE, name="problem1.ipynb"
    )
    assert b"BEGIN SOLUTION" not in release and b"NotImplementedError" in release
    assert ps1.item.max_points == Decimal(
        13
    )  # 10 in problem1 (a task of 4 included), 3 in problem2
    assert selectors.expected_files(assignment=ps1) == ["problem1.ipynb", "problem2.ipynb"]


def test_it_offers_every_file_in_one_zip(client, student, ps1):
    client.force_login(student)

    page = client.get("/courses/pmldl/assignments/ps1/").content.decode()
    response = client.get("/courses/pmldl/assignments/ps1/files.zip")

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "ps1/jupyter.png",
        "ps1/problem1.ipynb",
        "ps1/problem2.ipynb",
    ]
    assert b"BEGIN SOLUTION" not in archive.read("ps1/problem1.ipynb")
    assert "files.zip" in page and "multiple" in page


def test_it_takes_the_notebooks_in_a_zip_of_the_folder_with_its_data(ps1):
    handed_out = folder(USER_GUIDE / "release" / "ps1")
    upload = zipped({f"ps1/{name}": content for name, content in handed_out.items()})

    checked = check_submission(ps1, {"ps1.zip": upload})

    assert sorted(checked) == ["problem1.ipynb", "problem2.ipynb"]  # jupyter.png: the grader's


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "Upload your notebook"),
        ({"problem1 (1).ipynb": b"{}"}, "not a notebook of this assignment"),
        ({"problem1.ipynb": b"{}", "notes.txt": b"x"}, "leave out notes.txt"),
        ({"jupyter.png": b"png"}, "Upload your notebooks, problem1.ipynb, problem2.ipynb"),
        ({"problem2.ipynb": b"{broken"}, "problem2.ipynb is not a notebook"),
    ],
)
def test_it_refuses_an_upload_that_is_not_the_notebooks_clearly(ps1, student, files, message):
    with pytest.raises(ValidationError, match=message):
        submission_create(assignment=ps1, student=student, files=files)
    assert not Submission.objects.exists()


def test_it_takes_some_of_the_notebooks_and_says_the_rest_score_zero(client, student, ps1):
    client.force_login(student)
    problem1 = (USER_GUIDE / "submitted" / "hacker" / "ps1" / "problem1.ipynb").read_bytes()

    page = client.post(
        "/courses/pmldl/assignments/ps1/",
        {"file": SimpleUploadedFile("problem1.ipynb", problem1)},
        follow=True,
    ).content.decode()

    assert "Submission #1 is" in page  # queued, or received while the test holds the commit
    assert "does not hold problem2.ipynb: every cell of that scores 0" in page
    assert list(Submission.objects.get().files.values_list("name", flat=True)) == ["problem1.ipynb"]


@pytest.mark.slow
def test_it_grades_each_notebook_and_keeps_their_hand_grades_apart(
    client, pair, student, instructor
):
    files = {
        "part1.ipynb": answered(part(reads_data=False), "    return max(0, x)", "No saturation."),
        "part2.ipynb": answered(part(reads_data=True), "    return x", "Sparse activations."),
    }
    submission = submission_create(assignment=pair, student=student, files=files)

    assert grade_submission_task.apply(kwargs={"submission_pk": submission.pk}).get() == "graded"

    run = submission.runs.get()
    scores = {t["name"]: (t["score"], t["status"]) for t in run.tests}
    assert scores == {
        "part1/test_relu": ("2.000", "passed"),
        "part1/why_relu": (None, "manual"),
        "part2/test_relu": ("0.000", "failed"),
        "part2/why_relu": (None, "manual"),
        "part2/test_data": ("1.000", "passed"),  # data.csv is beside each notebook
    }
    assert sorted(run.executed_notebooks) == ["part1.ipynb", "part2.ipynb"]
    queue = selectors.manual_grading_queue(assignment=pair)
    assert {(c.grade_id, c.answer) for c in queue} == {
        ("part1/why_relu", "No saturation."),
        ("part2/why_relu", "Sparse activations."),
    }
    assert set(selectors.written_prompts(assignment=pair)) == {"part1/why_relu", "part2/why_relu"}

    manual_grade_set(submission=submission, grade_id="part2/why_relu", points=1, by=instructor)

    submission.refresh_from_db()
    assert (submission.score, submission.max_score) == (4, 7)
    assert list(ManualGrade.objects.values_list("grade_id", flat=True)) == ["part2/why_relu"]
    waiting = [c.grade_id for c in selectors.manual_grading_queue(assignment=pair) if not c.grade]
    assert waiting == ["part1/why_relu"]
    results = selectors.run_results_json(submission=submission, run=run)
    assert {t["name"]: t["score"] for t in results["tests"]}["part2/why_relu"] == 1
    assert Score.objects.get(student=student, item=pair.item).raw_points == Decimal("4.000")
    client.force_login(student)
    page = client.get("/courses/pmldl/assignments/pair/submissions/1/feedback/").content.decode()
    assert "<h2>part1.ipynb</h2>" in page and "<h2>part2.ipynb</h2>" in page
    assert page.count("waiting for a TA") == 1 and "graded by hand" in page
    assert "relu(3)" not in page  # the hidden test stays hidden in each notebook


@pytest.mark.slow
def test_the_autograde_command_grades_a_submitted_folder(ps1):
    out = StringIO()

    call_command(
        "autograde",
        "--assignment",
        "ps1",
        str(USER_GUIDE / "submitted" / "hacker" / "ps1"),
        "--json",
        stdout=out,
    )

    results = json.loads(out.getvalue())
    scores = {t["name"]: t["score"] for t in results["tests"]}
    assert scores["problem1/correct_squares"] == 1 and scores["problem2/part-b"] is None
    assert results["score"] == 3  # the autograded tests: 1 + 1 + 0.5 + 0.5
    assert "jupyter.png" not in results["output"] and "timestamp.txt" not in results["output"]


@pytest.mark.slow
def test_it_shares_the_run_time_between_the_notebooks(pair):
    """The first notebook never ends and is stopped at the assignment's run time; the second then
    gets only what little is left (``MIN_RUN_SECONDS``), not a run time of its own, so a
    submission's grading ends near the time its assignment allows."""
    from autograder.notebook_set import MIN_RUN_SECONDS

    pair.run_timeout_seconds, pair.cell_timeout_seconds = 40, 120
    pair.save()
    endless = answered(part(reads_data=False), "    return max(0, x)\nwhile True:\n    pass", "")
    slow = answered(
        part(reads_data=True),
        f"    return max(0, x)\nimport time\ntime.sleep({2 * MIN_RUN_SECONDS})",
        "",
    )

    grade = grade_files(pair, {"part1.ipynb": endless, "part2.ipynb": slow})

    scores = {t.name: t.score for t in grade.tests}
    assert scores["part1/test_relu"] == 0 and scores["part2/test_data"] == 0
    assert any(
        n.startswith("part1.ipynb: The notebook ran longer than the 40 s") for n in grade.notes
    )
    assert any(n.startswith("part2.ipynb: The notebook ran longer") for n in grade.notes)


def test_it_refuses_to_turn_one_notebook_into_several_once_students_submitted(assignment, student):
    submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    two = {"a1.ipynb": source_bytes(), "a1_part2.ipynb": source_bytes()}

    with pytest.raises(ValidationError, match="under another slug"):
        assignment_import(course=assignment.course, slug="a1", files=two)

    assert selectors.expected_files(assignment=assignment) == ["a1.ipynb"]


def test_the_api_takes_the_notebooks_as_several_files(api_as, student, ps1):
    handed_in = folder(USER_GUIDE / "submitted" / "bitdiddle" / "ps1", suffix=".ipynb")
    uploads = [SimpleUploadedFile(name, content) for name, content in handed_in.items()]

    response = api_as(student).post(
        "/api/courses/pmldl/assignments/ps1/submissions/", {"file": uploads}, format="multipart"
    )

    assert response.status_code == 201, response.content
    assert sorted(Submission.objects.get().files.values_list("name", flat=True)) == [
        "problem1.ipynb",
        "problem2.ipynb",
    ]
