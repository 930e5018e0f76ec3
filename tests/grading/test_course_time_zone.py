"""One time zone, the course's, on every page and in the API: shown, labelled, and read.

The shared ``course`` is in Europe/Moscow (UTC+3, "MSK"): A1 is due 20:59 UTC, that is 23:59 MSK.
"""

from __future__ import annotations

import datetime

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.utils import timezone

from courseapp.quizzes.attempts import attempt_start
from courseapp.quizzes.authoring import quiz_export, quiz_import
from courseapp.quizzes.models import Quiz
from grading.models import Extension, ScoreHistory
from grading.services.scores import extension_grant, score_set
from tests.quizzes.conftest import lecture, quiz_yaml  # noqa: F401  (the fixture)

UTC = datetime.UTC


@pytest.fixture
def graded(assignment, student, ta):
    """A score on A1 handed in a day late, so that an extension writes a line in its history."""
    late = assignment.due_at + datetime.timedelta(days=1)
    score_set(item=assignment, student=student, points=8, by=ta, source="manual", submitted_at=late)
    return assignment


def test_the_extension_form_lists_due_times_in_the_course_zone_and_names_it(client, assignment, ta):
    client.force_login(ta)

    page = client.get("/courses/pmldl/extensions/").content.decode()

    assert "A1 (due Thu 01 Oct 23:59 MSK)" in page
    assert "20:59" not in page
    assert "New due date (Europe/Moscow (MSK))" in page


def test_the_extension_form_reads_a_due_time_in_the_course_zone(client, graded, student, ta):
    client.force_login(ta)

    client.post(
        "/courses/pmldl/extensions/",
        {"student": "student", "item": graded.pk, "due_at": "2026-10-03T23:59", "reason": "ill"},
    )

    extension = Extension.objects.get(item=graded, student=student)
    assert extension.due_at == datetime.datetime(2026, 10, 3, 20, 59, tzinfo=UTC)
    history = ScoreHistory.objects.filter(score__item=graded).last()
    assert history.reason == "Extension to Sat 03 Oct 2026 23:59 MSK: ill"
    page = client.get(f"/courses/pmldl/gradebook/items/{graded.pk}/students/student/")
    assert "Now due 3 Oct 2026 23:59 MSK" in page.content.decode()


def test_the_api_reads_and_writes_times_in_the_course_zone(api_as, graded, student, ta):
    api = api_as(ta)

    answer = api.post(
        f"/api/courses/pmldl/items/{graded.pk}/scores/student/extension/",
        {"due_at": "2026-10-03T23:59", "reason": "ill"},
        format="json",
    )

    assert answer.status_code == 200, answer.content
    extension = Extension.objects.get(item=graded, student=student)
    assert extension.due_at == datetime.datetime(2026, 10, 3, 20, 59, tzinfo=UTC)
    [item] = [i for i in api.get("/api/courses/pmldl/items/").json() if i["id"] == graded.pk]
    assert item["due_at"] == "2026-10-01T23:59:00+03:00"
    # The course's zone ends with the request: the thread is back on the site's zone.
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_history_written_outside_a_request_names_the_course_time(graded, student, ta):
    due = datetime.datetime(2026, 10, 5, 9, 0, tzinfo=UTC)

    extension_grant(item=graded, student=student, due_at=due, reason="", by=ta)

    reason = ScoreHistory.objects.filter(score__item=graded).last().reason
    assert reason == "Extension to Mon 05 Oct 2026 12:00 MSK"


def test_a_quiz_not_open_yet_says_when_it_opens_in_the_course_zone(scheme, lecture, student):  # noqa: F811
    opens = datetime.datetime(2030, 9, 7, 7, 0, tzinfo=UTC)
    text = quiz_yaml(
        opens_at=opens.isoformat(), closes_at=(opens + datetime.timedelta(hours=1)).isoformat()
    )
    quiz = quiz_import(course=scheme.course, text=text)

    with pytest.raises(ValidationError) as refused:
        attempt_start(quiz=quiz, student=student)

    assert "opens at Sat 07 Sep 2030 10:00 MSK" in refused.value.messages[0]


def test_a_quiz_exports_its_window_on_the_course_clock(scheme, lecture):  # noqa: F811
    opens = datetime.datetime(2030, 9, 7, 7, 0, tzinfo=UTC)
    text = quiz_yaml(
        opens_at=opens.isoformat(), closes_at=(opens + datetime.timedelta(hours=1)).isoformat()
    )
    quiz = quiz_import(course=scheme.course, text=text)

    data = yaml.safe_load(quiz_export(quiz=Quiz.objects.get(pk=quiz.pk)))

    assert str(data["opens_at"]).replace(" ", "T") == "2030-09-07T10:00:00+03:00"


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("student", "/courses/pmldl/"),
        ("student", "/courses/pmldl/quizzes/"),
        ("student", "/courses/pmldl/assignments/"),
        ("student", "/courses/pmldl/grades/"),
        ("ta", "/courses/pmldl/"),
        ("ta", "/courses/pmldl/gradebook/"),
        ("ta", "/courses/pmldl/extensions/"),
        ("ta", "/courses/pmldl/regrades/"),
    ],
)
def test_every_course_page_says_which_zone_its_times_are_in(client, scheme, student, ta, who, path):
    client.force_login({"student": student, "ta": ta}[who])

    page = client.get(path)

    assert page.status_code == 200
    assert "Times in Europe/Moscow (MSK)" in page.content.decode()
