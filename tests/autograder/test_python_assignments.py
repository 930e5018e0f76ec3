"""Python-file assignments: a harness of test functions and its autograder.toml, graded in the
sandbox, with the same submissions, queue and gradebook as notebooks."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from autograder import harness, selectors
from autograder.grades import HIDDEN_OUTPUT
from autograder.models import Assignment, AssignmentKind, SubmissionState
from autograder.run_notes import sandbox_note
from autograder.sandbox import STOP_REASONS, Limits, SandboxResult
from autograder.services.assignments import assignment_import
from autograder.services.autograde import grade_files
from autograder.services.intake import submission_create
from autograder.tasks import grade_submission_task
from grading.models import Score
from grading.services.schemes import grading_scheme_create
from tests.grading.conftest import LETTERS, SLIDES

SPEC = b"""
files = ["relu.py"]
harness = "test_relu.py"
private = ["reference.py"]
test_timeout = 5

[[tests]]
name = "positive inputs"
function = "test_positive"
points = 2

[[tests]]
name = "negative inputs"
function = "test_negative"
points = 2

[[tests]]
name = "hidden: zero"
function = "test_zero"
points = 1
hidden = true
"""
HARNESS = b"""
from reference import relu as reference
from relu import relu

def test_positive():
    print("trying 3.5")
    assert relu(3.5) == reference(3.5)

def test_negative():
    got = relu(-2.0)
    assert got == reference(-2.0), f"relu(-2.0) returned {got}, expected 0.0"

def test_zero():
    assert relu(0.0) == 0.0, "THE HIDDEN TEST'S OWN MESSAGE"
"""
REFERENCE = b"def relu(x):\n    return max(0.0, x)\n"
STARTER = b"def relu(x):\n    raise NotImplementedError\n"
RIGHT = b"def relu(x):\n    return x if x > 0 else 0.0\n"
WRONG = b"def relu(x):\n    return abs(x)\n"


def source_files() -> dict[str, bytes]:
    return {
        "autograder.toml": SPEC,
        "test_relu.py": HARNESS,
        "reference.py": REFERENCE,
        "relu.py": STARTER,
        "inputs.csv": b"x\n1\n",
    }


@pytest.fixture
def python_assignment(course, instructor):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    return assignment_import(
        course=course, slug="relu", title="ReLU in Python", files=source_files()
    )


def zipped(files: dict[str, bytes], folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(folder + name, content)
    return buffer.getvalue()


# Import


def test_importing_keeps_the_harness_from_students(python_assignment):
    roles = dict(python_assignment.files.values_list("name", "role"))

    assert python_assignment.kind == AssignmentKind.PYTHON
    assert roles == {
        "autograder.toml": "source",
        "test_relu.py": "source",
        "reference.py": "source",
        "relu.py": "release",
        "inputs.csv": "data",
    }
    downloadable = set(
        selectors.downloadable_files(assignment=python_assignment).values_list("name", flat=True)
    )
    assert downloadable == {"relu.py", "inputs.csv"}
    assert python_assignment.item.max_points == Decimal(5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (b"files = [", "not valid TOML"),
        (b'files = ["a.py"]\nharness = "t.py"\n', "no \\[\\[tests\\]\\]"),
        (b'files = ["t.py"]\nharness = "t.py"\n[[tests]]\nname="a"\npoints=1', "those are yours"),
        (b'files = ["a.py"]\nharness = "t.py"\n[[tests]]\nname="a"\npoints=0', "greater than 0"),
        (b'files = ["a.py"]\nharness = "t-1.py"\n[[tests]]\nname="a"\npoints=1', "module name"),
        (b'files = ["a.py"]\nharness = "t.py"\nextra = 1\n', "unknown keys"),
        (b'files = ["a.py"]\nharness = "missing.py"\n[[tests]]\nname="a"\npoints=1', "not here"),
    ],
)
def test_a_bad_spec_is_refused_with_the_reason(course, spec, message):
    with pytest.raises(ValidationError, match=message):
        assignment_import(course=course, slug="bad", files={"autograder.toml": spec, "t.py": b""})
    with pytest.raises(harness.SpecError):
        harness.parse(b"[[tests]]\nname = 1\n")


# Submissions


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "Upload relu.py"),
        ({"relu (1).py": RIGHT}, "Missing relu.py. You uploaded relu \\(1\\).py: rename it"),
        ({"relu.py": RIGHT, "notes.txt": b"hi"}, "leave out notes.txt"),
        ({"relu.py": b"def relu(x) return x\n"}, "relu.py is not valid Python \\(line 1\\)"),
        ({"hw.zip": zipped({"../relu.py": RIGHT})}, "points outside the folder"),
    ],
)
def test_a_bad_python_upload_is_refused_and_nothing_is_stored(
    python_assignment, student, files, message
):
    with pytest.raises(ValidationError, match=message):
        submission_create(assignment=python_assignment, student=student, files=files)
    assert not python_assignment.submissions.exists()


def test_a_zip_of_the_files_is_a_submission_of_those_files(python_assignment, student):
    submission = submission_create(
        assignment=python_assignment,
        student=student,
        files={"hw.zip": zipped({"relu.py": RIGHT}, folder="hw/")},
    )

    assert selectors.submission_files(submission=submission) == {"relu.py": RIGHT}


# Grading (in the sandbox)


def test_the_harness_grades_each_test_and_the_gradebook_gets_the_score(
    python_assignment, student, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        submission = submission_create(
            assignment=python_assignment, student=student, files={"relu.py": WRONG}
        )

    grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="t-1").get()

    submission.refresh_from_db()
    assert submission.state == SubmissionState.GRADED
    run = selectors.latest_run(submission=submission)
    tests = {t["name"]: t for t in run.tests}
    assert tests["positive inputs"]["status"] == "passed"
    assert "trying 3.5" in tests["positive inputs"]["output"]
    assert tests["negative inputs"]["status"] == "failed"
    assert "relu(-2.0) returned 2.0, expected 0.0" in tests["negative inputs"]["output"]
    assert tests["hidden: zero"]["output"] == HIDDEN_OUTPUT
    assert "HIDDEN TEST'S OWN MESSAGE" not in json.dumps(run.tests)
    assert (submission.score, submission.max_score) == (Decimal(3), Decimal(5))
    score = Score.objects.get(item=python_assignment.item, student=student)
    assert (score.raw_points, score.source) == (Decimal(3), "autograder")  # 3 of 5 points


HOSTILE = {
    "a test that never ends": b"def relu(x):\n    while True:\n        pass\n",
    "os._exit in the student's code": b"import os\ndef relu(x):\n    os._exit(7)\n",
    "sys.exit in the student's code": b"import sys\ndef relu(x):\n    sys.exit(0)\n",
    "a crash at import": b"import os\nos._exit(1)\n",
    "a forged result after killing the runner": b"""
import json, os, signal
def relu(x):
    with open("status.json", "w") as f:
        json.dump({"status": {"state": "finished", "tests": [{"status": "passed", "output": ""}]
                   * 3}, "mac": "0" * 64}, f)
    os.kill(os.getppid(), signal.SIGKILL)
    return 0.0
""",
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_code_fails_its_tests_and_nothing_else(python_assignment, case):
    grade = grade_files(python_assignment, {"relu.py": HOSTILE[case]})

    assert grade.score == 0, grade.tests
    assert all(t.status == "failed" for t in grade.tests)
    outputs = " ".join(t.output for t in grade.tests) + " ".join(grade.notes)
    expected = {
        "a test that never ends": "ran longer than 5 s",
        "os._exit in the student's code": "ended the test process (exit code 7)",
        "sys.exit in the student's code": "called sys.exit(0)",
        "a crash at import": "Importing your code ended the process (exit code 1)",
        "a forged result after killing the runner": "grading files were changed",
    }[case]
    assert expected in outputs


def test_an_exception_shows_the_students_traceback_not_the_runners(python_assignment):
    grade = grade_files(python_assignment, {"relu.py": b"def relu(x):\n    return x / 0\n"})

    output = grade.tests[0].output
    assert "ZeroDivisionError: float division by zero" in output
    assert 'File "relu.py", line 2, in relu' in output
    assert "pyrunner" not in output and "/tmp" not in output


def test_the_autograde_command_grades_a_zip(python_assignment, tmp_path):
    (tmp_path / "hw.zip").write_bytes(zipped({"relu.py": RIGHT}))
    out = StringIO()

    call_command(
        "autograde", "--assignment", "relu", str(tmp_path / "hw.zip"), "--json", stdout=out
    )

    results = json.loads(out.getvalue())
    assert results["score"] == 5.0 and len(results["tests"]) == 3


def test_the_api_takes_several_files_and_says_what_is_wrong(api_as, student, python_assignment):
    url = "/api/courses/pmldl/assignments/relu/submissions/"
    client = api_as(student)

    wrong = client.post(url, {"file": [SimpleUploadedFile("relu (1).py", RIGHT)]})
    right = client.post(url, {"file": [SimpleUploadedFile("hw.zip", zipped({"relu.py": RIGHT}))]})
    twice = client.post(
        url, {"file": [SimpleUploadedFile("relu.py", RIGHT), SimpleUploadedFile("relu.py", WRONG)]}
    )

    assert wrong.status_code == 400 and "rename it" in str(wrong.json())
    assert right.status_code == 201 and right.json()["number"] == 1
    assert twice.status_code == 400 and "uploaded twice" in str(twice.json())


# Pages


def uploaded(files: dict[str, bytes]) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, content) for name, content in files.items()]


def test_staff_import_an_assignment_from_the_page(client, course, ta, student):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    client.force_login(ta)
    url = "/courses/pmldl/assignments/import/"

    form = client.get(url)
    refused = client.post(
        url,
        {
            "slug": "relu",
            "title": "ReLU",
            "files": uploaded({"autograder.toml": b"files = [", "test_relu.py": HARNESS}),
        },
    )
    done = client.post(url, {"slug": "relu", "title": "ReLU", "files": uploaded(source_files())})

    assert form.status_code == 200 and b'name="files"' in form.content
    assert refused.status_code == 400 and b"not valid TOML" in refused.content
    assert b'value="relu"' in refused.content  # what was typed stays
    assert done.status_code == 302 and done["Location"].endswith("/assignments/relu/")
    assignment = Assignment.objects.get(slug="relu")
    assert assignment.kind == AssignmentKind.PYTHON and assignment.title == "ReLU"
    client.force_login(student)
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"slug": "x", "files": uploaded(source_files())}).status_code in (
        403,
        404,
    )
    assert not Assignment.objects.filter(slug="x").exists()


def test_a_student_submits_python_files_from_the_page(client, student, python_assignment):
    client.force_login(student)
    url = "/courses/pmldl/assignments/relu/"

    page = client.get(url).content.decode()
    wrong = client.post(url, {"file": uploaded({"relu (1).py": RIGHT})}, follow=True)
    right = client.post(url, {"file": uploaded({"hw.zip": zipped({"relu.py": RIGHT})})})

    assert "relu.py, or a zip of them" in page and 'accept=".py,.zip" multiple' in page
    assert "rename it to match" in wrong.content.decode()
    assert right.status_code == 302
    assert selectors.submission_files(submission=python_assignment.submissions.get()) == {
        "relu.py": RIGHT
    }


@pytest.mark.parametrize("reason", [r for r in STOP_REASONS if r not in ("exited",)])
def test_every_way_the_sandbox_stops_a_run_is_explained(reason):
    sandbox = SandboxResult(None, 9, "", "", False, False, 1.0, 1.0, 0, reason, "bubblewrap")

    note = sandbox_note(sandbox, Limits(), what="Your code")

    assert note and note.startswith("Your code") and "{" not in note


def test_a_checks_reference_file_is_kept_from_students_even_if_not_listed_private(course):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    spec = (
        b'files = ["nn.py"]\n'
        b'[[checks]]\nname = "double"\nkind = "function"\ntarget = "double"\n'
        b'reference = "ref:double"\ninputs = [[3]]\npoints = 1\n'
    )
    assignment = assignment_import(
        course=course,
        slug="double",
        files={"autograder.toml": spec, "ref.py": b"def double(x):\n    return 2 * x\n"},
    )

    assert dict(assignment.files.values_list("name", "role"))["ref.py"] == "source"
    assert not selectors.downloadable_files(assignment=assignment).filter(name="ref.py").exists()
    with pytest.raises(ValidationError, match=r"ref\.py, which is not here"):
        assignment_import(course=course, slug="d2", files={"autograder.toml": spec})
