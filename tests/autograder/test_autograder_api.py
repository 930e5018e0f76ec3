"""The autograder API: submit, list, results.json, grade again; each person sees their own."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from autograder.tasks import grade_submission_task
from tests.autograder.nbfactory import student_notebook

URL = "/api/courses/pmldl/assignments/a1/"


def submit(client, content: bytes):
    return client.post(URL + "submissions/", {"file": SimpleUploadedFile("a1.ipynb", content)})


@pytest.mark.slow
def test_a_student_submits_and_reads_the_results_json(api_as, student, assignment):
    client = api_as(student)

    made = submit(client, student_notebook("    return x"))
    grade_submission_task.apply(kwargs={"submission_pk": made.json()["id"]}, task_id="api-1").get()
    results = client.get(URL + f"submissions/{made.json()['id']}/results/").json()

    assert made.status_code == 201 and made.json()["state"] == "queued"
    assert results["score"] == 0
    test = results["tests"][0]
    assert (test["name"], test["status"], test["visibility"]) == ("test_relu", "failed", "visible")
    assert "relu(-1) should be 0" in test["output"]
    assert results["tests"][1]["output"] == "Waiting for a hand grade."


def test_a_bad_upload_is_a_400_that_says_why(api_as, student, assignment):
    response = submit(api_as(student), b"not a notebook")

    assert response.status_code == 400
    assert "not valid JSON" in str(response.json())


def test_students_see_only_their_own_submissions(api_as, student, other_student, assignment):
    made = submit(api_as(student), student_notebook()).json()

    assert [s["username"] for s in api_as(other_student).get(URL + "submissions/").json()] == []
    assert api_as(other_student).get(URL + f"submissions/{made['id']}/results/").status_code == 404


def test_staff_see_all_and_grade_again_but_students_cannot(api_as, student, ta, assignment):
    submit(api_as(student), student_notebook())

    listed = api_as(ta).get(URL + "submissions/").json()
    by_student = api_as(student).post(URL + "regrade/", {}, format="json")
    by_ta = api_as(ta).post(URL + "regrade/", {}, format="json")

    assert [s["username"] for s in listed] == ["student"]
    assert by_student.status_code == 403
    assert by_ta.json() == {"queued": 1}
