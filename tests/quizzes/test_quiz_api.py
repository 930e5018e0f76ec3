"""The quiz API as a browser's autosave and a script use it: start or continue, save, submit; a
student reaches only their own attempt, and the key only once the review is open."""

from __future__ import annotations

import datetime
import json

import pytest
import yaml
from django.utils import timezone

from courseapp.courses.models import Enrollment, Role
from courseapp.quizzes.models import AnswerSave, Attempt, Quiz

BASE = "/api/courses/pmldl/quizzes/week1/attempts/"


def put(client, slug: str, value, number: int = 1):
    return client.put(f"{BASE}{number}/answers/{slug}/", {"value": value}, format="json")


def test_a_student_starts_saves_and_submits(api_as, week1, student):
    client = api_as(student)

    started = client.post(BASE)
    again = client.post(BASE)
    saved = put(client, "gd", "-eta*dR/dtheta + theta")
    submitted = client.post(f"{BASE}1/submit/")

    assert started.status_code == again.status_code == 201
    assert started.data["number"] == again.data["number"] == 1
    assert 590 < started.data["seconds_left"] <= 600
    assert saved.status_code == 200 and saved.data["warning"] == ""
    assert submitted.status_code == 200 and submitted.data["state"] == "submitted"


def test_another_student_cannot_see_save_or_submit_an_attempt(
    api_as, week1, student, other_student
):
    api_as(student).post(BASE)
    intruder = api_as(other_student)

    assert intruder.get(f"{BASE}1/").status_code == 404
    assert put(intruder, "relu", 0).status_code == 404
    assert intruder.post(f"{BASE}1/submit/").status_code == 404
    assert not AnswerSave.objects.exists()
    assert Attempt.objects.get().state == "open"


def test_staff_do_not_take_quizzes_and_outsiders_see_nothing(api_as, week1, ta, outsider):
    assert api_as(ta).post(BASE).status_code == 403
    assert api_as(outsider).post(BASE).status_code == 404
    assert api_as(outsider).get("/api/courses/pmldl/quizzes/").status_code == 404


def test_a_student_dropped_mid_quiz_is_refused_on_the_next_request(api_as, week1, student):
    """The role is read with the course, once per request: never one kept from an earlier request
    (``api_as`` hands DRF the same user object every time)."""
    client = api_as(student)
    client.post(BASE)
    assert put(client, "relu", 0).status_code == 200
    Enrollment.objects.filter(user=student).delete()

    assert put(client, "relu", 1).status_code == 404
    assert client.post(f"{BASE}1/submit/").status_code == 404
    assert client.post(BASE).status_code == 404
    assert AnswerSave.objects.count() == 1 and Attempt.objects.get().state == "open"


def test_a_student_made_ta_mid_quiz_can_no_longer_save(api_as, week1, student):
    client = api_as(student)
    client.post(BASE)
    Enrollment.objects.filter(user=student).update(role=Role.TA)

    assert put(client, "relu", 1).status_code == 403
    assert client.post(f"{BASE}1/submit/").status_code == 403
    assert not AnswerSave.objects.exists()


def test_a_save_after_the_deadline_and_grace_gets_409_with_the_reason(api_as, week1, student):
    client = api_as(student)
    client.post(BASE)
    assert put(client, "relu", 0).status_code == 200
    Attempt.objects.update(deadline=timezone.now() - datetime.timedelta(seconds=31))

    late = put(client, "relu", 1)

    assert late.status_code == 409
    assert "after the deadline" in late.data["detail"] and "stand" in late.data["detail"]
    answers = client.get(f"{BASE}1/").data["questions"]
    assert next(q["answer"] for q in answers if q["slug"] == "relu") == 0


def test_the_key_is_hidden_until_the_review_opens(api_as, week1, student):
    client = api_as(student)
    client.post(BASE)
    put(client, "adam", True)
    client.post(f"{BASE}1/submit/")

    before = client.get(f"{BASE}1/")
    assert before.status_code == 200
    assert all("review" not in q for q in before.data["questions"])
    assert "rubric" not in json.dumps(before.data, default=str) and before.data["score"] is None

    Quiz.objects.update(
        opens_at=timezone.now() - datetime.timedelta(hours=2),
        closes_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    after = client.get(f"{BASE}1/").data
    adam = next(q for q in after["questions"] if q["slug"] == "adam")
    assert adam["review"]["key"] == {"answer": True} and adam["review"]["earned"] == 1


@pytest.mark.parametrize(
    "formula",
    [
        "__import__('os').system('touch /tmp/pwned')",
        "9**9**9**9",
        "(lambda: 1)()",
        "theta.__class__.__mro__",
        "x" * 300,
        "10**10**10",
    ],
)
def test_a_malicious_formula_is_saved_as_text_refused_as_a_formula_and_scores_zero(
    api_as, week1, student, formula
):
    client = api_as(student)
    client.post(BASE)

    saved = put(client, "gd", formula)
    submitted = client.post(f"{BASE}1/submit/")

    assert saved.status_code == 200 and saved.data["warning"]
    assert submitted.status_code == 200
    grade = Attempt.objects.get().grades.get(question__slug="gd")
    assert grade.points == 0


def test_an_answer_of_the_wrong_shape_is_a_400_with_the_reason(api_as, week1, student):
    client = api_as(student)
    client.post(BASE)

    response = put(client, "bn", "all of them")

    assert response.status_code == 400 and "Choose among the choices" in response.data["detail"]


def test_staff_export_a_quiz_and_import_it_again_as_yaml(api_as, week1, instructor, student):
    staff = api_as(instructor)
    exported = staff.get("/api/courses/pmldl/quizzes/week1/export/")
    data = yaml.safe_load(exported.content)
    data.update(slug="week1-copy", item=None, points=10, title="Quiz 1 (copy)")

    created = staff.post(
        "/api/courses/pmldl/quizzes/import/", yaml.safe_dump(data), content_type="application/yaml"
    )

    assert exported.status_code == 200 and created.status_code == 201
    copy = Quiz.objects.get(slug="week1-copy")
    assert [(q.slug, q.kind, q.key) for q in copy.questions.all()] == [
        (q.slug, q.kind, q.key) for q in week1.questions.all()
    ]
    assert api_as(student).get("/api/courses/pmldl/quizzes/week1/export/").status_code == 403


def test_staff_set_an_accommodation_and_the_open_attempt_moves(api_as, week1, instructor, student):
    api_as(student).post(BASE)

    response = api_as(instructor).put(
        "/api/courses/pmldl/accommodations/student/", {"extra_minutes": 5}, format="json"
    )

    assert response.status_code == 200
    attempt = Attempt.objects.get()
    assert attempt.deadline - attempt.started_at == datetime.timedelta(minutes=15)
    assert (
        api_as(student)
        .put("/api/courses/pmldl/accommodations/student/", {"extra_minutes": 60}, format="json")
        .status_code
        == 403
    )
