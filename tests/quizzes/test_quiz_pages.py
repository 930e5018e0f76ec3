"""The quiz pages: the list, a quiz with its start button, an attempt to take (with the math of
its prompts drawn as MathML) and to review; another student's attempt is not found."""

from __future__ import annotations

import datetime

from django.utils import timezone

from courseapp.quizzes import attempts
from courseapp.quizzes.authoring import quiz_import
from courseapp.quizzes.models import Quiz
from tests.quizzes.conftest import QUESTIONS, RIGHT, by_slug, quiz_yaml


def html(client, user, url: str, status: int = 200) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status
    return response.content.decode()


def test_a_student_sees_the_quiz_open_and_starts_it(client, week1, student):
    listing = html(client, student, "/courses/pmldl/quizzes/")
    detail = html(client, student, "/courses/pmldl/quizzes/week1/")

    assert "Quiz 1" in listing and "Not started" in listing
    assert "Start attempt 1" in detail and "0:10:00 per attempt" in detail
    response = client.post("/courses/pmldl/quizzes/week1/start/")
    assert response.status_code == 302 and response.url.endswith("/attempts/1/")
    taking = html(client, student, response.url)
    assert 'data-question="gd"' in taking and "Time left" in taking


def test_math_in_a_prompt_is_drawn_as_mathml_and_html_in_it_is_text(
    client, scheme, lecture, course, student
):
    questions = [{**QUESTIONS[0], "prompt": "Is $\\sigma(x) = \\frac{1}{1+e^{-x}}$ <b>bold</b>?"}]
    quiz_import(course=course, text=quiz_yaml(questions=questions))
    client.force_login(student)
    client.post("/courses/pmldl/quizzes/week1/start/")

    page = html(client, student, "/courses/pmldl/quizzes/week1/attempts/1/")

    assert "<mfrac>" in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_another_students_attempt_page_is_not_found(client, week1, student, other_student):
    attempts.attempt_start(quiz=week1, student=student)

    html(client, other_student, "/courses/pmldl/quizzes/week1/attempts/1/", status=404)
    client.force_login(other_student)
    assert client.post("/courses/pmldl/quizzes/week1/attempts/1/submit/").status_code == 404


def test_the_review_shows_the_key_only_after_the_quiz_closes(client, week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    for slug, value in RIGHT.items():
        attempts.answer_save(attempt=attempt, question=by_slug(attempt)[slug], value=value)
    attempts.attempt_submit(attempt=attempt)

    before = html(client, student, "/courses/pmldl/quizzes/week1/attempts/1/")
    Quiz.objects.update(  # closed, and the grace for a classmate's last save over
        opens_at=timezone.now() - datetime.timedelta(hours=2),
        closes_at=timezone.now() - attempts.GRACE - datetime.timedelta(seconds=1),
    )
    after = html(client, student, "/courses/pmldl/quizzes/week1/attempts/1/")

    assert "Your answers are in" in before and "Key:" not in before
    assert "Key:" in after and "or any equivalent form" in after and "waiting for a TA" in after


def test_an_attempt_past_its_deadline_is_submitted_when_its_page_is_opened(client, week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    type(attempt).objects.update(deadline=timezone.now() - datetime.timedelta(minutes=1))

    page = html(client, student, "/courses/pmldl/quizzes/week1/attempts/1/")

    attempt.refresh_from_db()
    assert attempt.state == "submitted" and "by the server when the time was up" in page


def test_staff_import_a_quiz_from_the_page_and_a_bad_file_is_named(
    client, scheme, lecture, course, instructor
):
    client.force_login(instructor)
    bad = client.post("/courses/pmldl/quizzes/import/", {"text": "slug: x\nquestions: 3\n"})
    good = client.post("/courses/pmldl/quizzes/import/", {"text": quiz_yaml()})

    assert bad.status_code == 200 and "lecture must be the lecture" in bad.content.decode()
    assert good.status_code == 302 and Quiz.objects.filter(slug="week1").exists()
    assert "Export YAML" in html(client, instructor, "/courses/pmldl/quizzes/")
