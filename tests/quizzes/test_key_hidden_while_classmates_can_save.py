"""After a quiz closes, a classmate whose deadline was the close may still save for the grace
(a slow network): until that is over, no student sees the key or the points (the attempt, its
page, My grades), so that the key cannot be passed on to someone who can still use it."""

from __future__ import annotations

import datetime

from django.utils import timezone

from courseapp.quizzes import attempts
from courseapp.quizzes.authoring import quiz_import
from courseapp.quizzes.models import Attempt, Quiz
from grading.services.items import graded_item_publish
from tests.quizzes.conftest import QUESTIONS, RIGHT, by_slug, quiz_yaml

AUTO = [q for q in QUESTIONS if q["kind"] != "free_text"]
ATTEMPT = "/api/courses/pmldl/quizzes/week1/attempts/1/"


def _closed(quiz: Quiz, ago: datetime.timedelta) -> None:
    closes = timezone.now() - ago
    Quiz.objects.filter(pk=quiz.pk).update(closes_at=closes)
    Attempt.objects.filter(quiz=quiz).update(deadline=closes)


def _what_the_first_student_sees(api, client, student) -> dict:
    data = api.get(ATTEMPT).json()
    client.force_login(student)
    page = client.get("/courses/pmldl/quizzes/week1/attempts/1/").content.decode()
    me = api.get("/api/courses/pmldl/grades/me/").json()
    return {
        "score": data["score"],
        "key": any("review" in q for q in data["questions"]),
        "page_key": "Key:" in page,
        "total": me["breakdown"]["total"],
    }


def test_the_key_waits_until_no_classmate_can_save(
    api_as, client, scheme, lecture, course, student, other_student
):
    quiz = quiz_import(course=course, text=quiz_yaml(questions=AUTO, review="after_close"))
    graded_item_publish(item=quiz.item)
    first, late = api_as(student), api_as(other_student)
    first.post("/api/courses/pmldl/quizzes/week1/attempts/")
    late.post("/api/courses/pmldl/quizzes/week1/attempts/")
    mine = Attempt.objects.get(student=student)
    for slug, question in by_slug(mine).items():
        attempts.answer_save(attempt=mine, question=question, value=RIGHT[slug])
    attempts.attempt_submit(attempt=mine)

    _closed(quiz, ago=datetime.timedelta(seconds=5))  # closed, the grace not over

    assert late.put(ATTEMPT + "answers/relu/", {"value": 0}, format="json").status_code == 200
    hidden = _what_the_first_student_sees(first, client, student)
    assert hidden == {"score": None, "key": False, "page_key": False, "total": "0"}

    _closed(quiz, ago=attempts.GRACE + datetime.timedelta(seconds=1))

    assert late.put(ATTEMPT + "answers/relu/", {"value": 0}, format="json").status_code == 409
    shown = _what_the_first_student_sees(first, client, student)
    assert shown["score"] == "8.000" and shown["key"] and shown["page_key"]
