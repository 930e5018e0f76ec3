"""A quiz's points reach a student only when its review policy allows (after submitting, after
the quiz closes, or never), wherever the student looks: the attempt, the student home, My grades,
``/api/.../grades/me/``, the score's page and history, a regrade request. Staff always see them."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from courseapp.quizzes import attempts
from courseapp.quizzes.authoring import quiz_import
from courseapp.quizzes.models import Quiz
from grading.services.items import graded_item_publish
from tests.quizzes.conftest import QUESTIONS, RIGHT, by_slug, quiz_yaml

AUTO = [q for q in QUESTIONS if q["kind"] != "free_text"]  # 8 points, all scored at once


def _submitted(course, student, review: str) -> Quiz:
    quiz = quiz_import(course=course, text=quiz_yaml(questions=AUTO, review=review))
    graded_item_publish(item=quiz.item)
    attempt = attempts.attempt_start(quiz=quiz, student=student)
    for slug, question in by_slug(attempt).items():
        attempts.answer_save(attempt=attempt, question=question, value=RIGHT[slug])
    assert attempts.attempt_submit(attempt=attempt).score == 8
    return quiz


def _close(quiz: Quiz) -> None:
    now = timezone.now()
    Quiz.objects.filter(pk=quiz.pk).update(
        opens_at=now - datetime.timedelta(hours=2),
        closes_at=now - attempts.GRACE - datetime.timedelta(seconds=1),
    )


def _seen(client, api_as, student, quiz) -> dict:
    """What the student sees of the quiz's points, everywhere."""
    api = api_as(student)
    me = api.get("/api/courses/pmldl/grades/me/").json()
    items = [i for c in me["breakdown"]["components"] for i in c["items"]]
    mine = next(i for i in items if i["item_id"] == quiz.item_id)
    client.force_login(student)
    page = client.get("/courses/pmldl/grades/")
    home = client.get("/courses/pmldl/").content.decode()
    return {
        "api_item": (mine["state"], mine["earned"]),
        "api_total": Decimal(me["breakdown"]["total"]),
        "page_total": page.context["breakdown"].total,
        "score_page": client.get(f"/courses/pmldl/grades/{quiz.item_id}/").status_code,
        "history": api.get(f"/api/courses/pmldl/grades/me/{quiz.item_id}/history/").status_code,
        "attempt": api.get(f"/api/courses/pmldl/quizzes/{quiz.slug}/attempts/1/").json()["score"],
        "home": "Submitted: <strong>8 / 8</strong>" in home,
    }


HIDDEN = {
    "api_item": ("hidden", None),
    "api_total": 0,
    "page_total": 0,
    "score_page": 404,
    "history": 404,
    "attempt": None,
    "home": False,
}
SHOWN = {
    "api_item": ("counted", "10"),
    "api_total": 10,
    "page_total": 10,
    "score_page": 200,
    "history": 200,
    "attempt": "8.000",
    "home": True,
}


@pytest.mark.parametrize(
    ("review", "before_close", "after_close"),
    [("after_close", HIDDEN, SHOWN), ("never", HIDDEN, SHOWN), ("after_submit", SHOWN, SHOWN)],
)
def test_a_student_sees_the_points_only_when_the_review_policy_allows(
    client, api_as, scheme, lecture, course, student, instructor, review, before_close, after_close
):
    quiz = _submitted(course, student, review)
    seen = _seen(client, api_as, student, quiz)
    assert {k: seen[k] for k in before_close} == before_close

    _close(quiz)

    seen = _seen(client, api_as, student, quiz)
    assert {k: seen[k] for k in after_close} == after_close


def test_a_student_cannot_ask_for_a_regrade_of_points_not_shown_yet(
    api_as, scheme, lecture, course, student
):
    quiz = _submitted(course, student, "after_close")
    api = api_as(student)
    body = {"item_id": quiz.item_id, "message": "Why?"}

    assert api.post("/api/courses/pmldl/regrades/mine/", body, format="json").status_code == 404
    _close(quiz)
    assert api.post("/api/courses/pmldl/regrades/mine/", body, format="json").status_code == 201


@pytest.mark.parametrize("review", ["after_close", "never"])
def test_staff_always_see_the_points(api_as, scheme, lecture, course, student, instructor, review):
    quiz = _submitted(course, student, review)

    rows = api_as(instructor).get("/api/courses/pmldl/gradebook/").json()
    rows = rows["rows"] if isinstance(rows, dict) else rows
    row = next(r for r in rows if r["username"] == "student")
    items = [i for c in row["breakdown"]["components"] for i in c["items"]]

    assert next(i for i in items if i["item_id"] == quiz.item_id)["earned"] == "10"


def test_a_never_reviewed_quiz_shows_its_score_after_the_close_but_never_the_key(
    client, api_as, scheme, lecture, course, student
):
    quiz = _submitted(course, student, "never")
    _close(quiz)

    attempt = api_as(student).get(f"/api/courses/pmldl/quizzes/{quiz.slug}/attempts/1/").json()
    client.force_login(student)
    page = client.get(f"/courses/pmldl/quizzes/{quiz.slug}/attempts/1/").content.decode()

    assert attempt["score"] == "8.000"
    assert all("review" not in question for question in attempt["questions"])
    assert "Score: 8 / 8" in page
    assert "Key:" not in page
    assert "does not show answers or points per question" in page
