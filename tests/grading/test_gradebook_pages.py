"""The gradebook pages render for the demo course and their forms work."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from courseapp.demo.services import demo_seed
from courseapp.quizzes.models import Quiz
from grading.models import Extension, GradedItem, Score
from grading.services.scores import score_set


@pytest.fixture
def demo(db):
    demo_seed()


@pytest.fixture
def staff(client, demo):
    client.force_login(get_user_model().objects.get(username="ta"))
    return client


def item(name: str) -> GradedItem:
    return GradedItem.objects.get(name=name)


@pytest.mark.parametrize("sort", ["name", "total", "letter", "quiz", "item-999999", "nonsense"])
def test_the_gradebook_renders_sorted(staff, sort):
    if sort == "quiz":
        sort = f"item-{item('Quiz 1').pk}"
    response = staff.get("/courses/pmldl/gradebook/", {"sort": sort, "dir": "desc"})

    assert response.status_code == 200
    assert "Alina Sokolova" in response.content.decode()


def test_the_gradebook_sorts_by_total(staff):
    html = staff.get("/courses/pmldl/gradebook/", {"sort": "total", "dir": "desc"}).content.decode()

    totals = [float(t.split("<")[0]) for t in html.split('<td class="total">')[1:]]
    assert totals == sorted(totals, reverse=True)


def test_staff_pages_render(staff):
    quiz = item("Quiz 1")
    project = item("Final project")
    for url in (
        f"/courses/pmldl/gradebook/items/{quiz.pk}/students/student01/",
        f"/courses/pmldl/gradebook/items/{project.pk}/teams/",
        "/courses/pmldl/gradebook/import/",
        "/courses/pmldl/regrades/",
        "/courses/pmldl/scheme/",
    ):
        assert staff.get(url).status_code == 200, url


def test_the_score_page_grants_an_extension_in_the_course_time_zone(staff):
    a1 = item("A1: neural network basics")
    url = f"/courses/pmldl/gradebook/items/{a1.pk}/students/student01/"

    moscow = zoneinfo.ZoneInfo("Europe/Moscow")
    later = (a1.due_at.astimezone(moscow) + datetime.timedelta(days=5)).date()
    response = staff.post(
        url, {"action": "extension", "due_at": f"{later}T23:59", "reason": "ill"}, follow=True
    )

    extension = Extension.objects.get(item=a1, student__username="student01")
    expected = datetime.datetime.combine(later, datetime.time(20, 59), tzinfo=datetime.UTC)
    assert extension.due_at == expected  # 23:59 Moscow
    assert f"Now due {later.day} {later:%b %Y} 23:59" in response.content.decode()


def test_the_score_page_refuses_an_override_without_a_reason(staff):
    quiz = item("Quiz 1")  # student11 took the week-1 quiz in the demo
    url = f"/courses/pmldl/gradebook/items/{quiz.pk}/students/student11/"

    response = staff.post(url, {"action": "override", "points": "9", "reason": ""}, follow=True)

    assert "Reason" in response.content.decode()
    assert Score.objects.get(item=quiz, student__username="student11").override_points is None


def test_publishing_from_the_gradebook(staff):
    a1 = item("A1: neural network basics")

    staff.post(f"/courses/pmldl/gradebook/items/{a1.pk}/publish/", {"published": "1"})

    assert item("A1: neural network basics").published


def test_the_import_page_checks_then_applies(staff):
    upload = SimpleUploadedFile(
        "mid.csv", b"username,item,points\nstudent01,Midterm theory,8\n", "text/csv"
    )

    checked = staff.post("/courses/pmldl/gradebook/import/", {"file": upload})
    assert "will change" in checked.content.decode()
    assert not Score.objects.filter(item__name="Midterm theory").exists()
    content = checked.context["content"]
    applied = staff.post("/courses/pmldl/gradebook/import/", {"content": content})

    assert applied.status_code == 302
    assert Score.objects.get(item__name="Midterm theory").raw_points == 8


def test_the_import_page_names_a_bad_row(staff):
    upload = SimpleUploadedFile("mid.csv", b"username,item,points\nstudent01,Midterm theory,80\n")

    html = staff.post("/courses/pmldl/gradebook/import/", {"file": upload}).content.decode()

    assert "Line 2" in html and "above the maximum" in html and "nothing was imported" in html


def test_the_student_pages_render(client, demo):
    student01 = get_user_model().objects.get(username="student01")
    client.force_login(student01)
    quiz = item("Quiz 1")
    for name, points in (("Quiz 1", 7), ("Quiz 2", 8)):  # from paper quizzes, say
        score_set(item=item(name), student=student01, points=points, by=None, source="manual")
    # The demo's week-1 quiz is open and shows points after it closes: let it show them now.
    Quiz.objects.filter(item=quiz).update(review="after_submit")

    grades = client.get("/courses/pmldl/grades/").content.decode()
    score = client.get(f"/courses/pmldl/grades/{quiz.pk}/")
    asked = client.post(f"/courses/pmldl/grades/{quiz.pk}/", {"message": "Q1?"}, follow=True)

    # Quizzes 15/20 so far, everything else to come: 1.875 + 107.5 p ≥ 89.5 → p ≥ 81.6 %.
    assert "<strong>A</strong>: 81.6% on the items still to come" in grades
    assert score.status_code == 200
    assert "with the course staff" in asked.content.decode()


def test_the_scheme_page_previews_then_applies(client, demo):
    client.force_login(get_user_model().objects.get(username="instructor"))
    form = {
        "components": "Quizzes, 10, 1\nAssignments, 30\nMidterm, 20\n"
        "Final project, 30\nFinal exam, 20",
        "cutoffs": "A 90, B 76, C 60, D 0",
        "rounding": "half_up",
        "percent_per_day": "10",
        "floor_percent": "0",
        "max_days_late": "7",
    }

    preview = client.post("/courses/pmldl/scheme/", form)
    applied = client.post("/courses/pmldl/scheme/", {**form, "confirm": "1"})

    assert (
        "would change letter" in preview.content.decode()
        or "No student" in preview.content.decode()
    )
    assert applied.status_code == 302
    assert client.get("/courses/pmldl/scheme/").content.decode().count("lowest 1") == 1
