"""Who sees what: staff see every score; a student sees only their own published scores, and can
change nothing but their own regrade requests; a score page is only for a student of the course;
a TA reads the scheme but only an instructor changes it."""

from __future__ import annotations

import pytest

from grading.models import Score
from grading.services import scores


@pytest.fixture
def graded(quiz, midterm, student, other_student, ta):
    """student: 7 on the published quiz, 9 on the unpublished midterm; other_student: 3, 4."""
    for who, on_quiz, on_midterm in ((student, 7, 9), (other_student, 3, 4)):
        scores.score_set(item=quiz, student=who, points=on_quiz, by=ta, source="quiz")
        scores.score_set(item=midterm, student=who, points=on_midterm, by=ta, source="manual")


def test_staff_see_every_score_on_the_gradebook_page(client, ta, graded):
    client.force_login(ta)

    html = client.get("/courses/pmldl/gradebook/").content.decode()

    assert "other_student" in html and "Midterm theory" in html
    assert "Students by letter" in html  # the chart


@pytest.mark.parametrize(
    "url",
    [
        "/courses/pmldl/gradebook/",
        "/courses/pmldl/gradebook/export.csv",
        "/courses/pmldl/gradebook/import/",
        "/courses/pmldl/regrades/",
        "/api/courses/pmldl/gradebook/",
        "/api/courses/pmldl/items/",
        "/api/courses/pmldl/regrades/",
    ],
)
def test_a_student_cannot_open_staff_pages(client, student, graded, url):
    client.force_login(student)

    assert client.get(url).status_code == 403


def test_a_student_cannot_see_another_students_score(client, student, other_student, quiz, graded):
    client.force_login(student)

    page = client.get(f"/courses/pmldl/gradebook/items/{quiz.pk}/students/other_student/")
    api = client.get(f"/api/courses/pmldl/items/{quiz.pk}/scores/other_student/")

    assert page.status_code == api.status_code == 403


def test_a_student_sees_own_published_scores_only(client, student, graded, quiz, midterm):
    client.force_login(student)

    data = client.get("/api/courses/pmldl/grades/me/").json()

    items = {i["item"]: i for c in data["breakdown"]["components"] for i in c["items"]}
    assert items["Quiz 1"]["earned"] == "7"
    assert items["Midterm theory"]["state"] == "hidden"
    assert (
        items["Midterm theory"]["earned"] is None and items["Midterm theory"]["raw_points"] is None
    )
    assert data["breakdown"]["only_published"] is True
    html = client.get("/courses/pmldl/grades/").content.decode()
    assert "not published yet" in html and "only published items" in html
    assert client.get(f"/courses/pmldl/grades/{midterm.pk}/").status_code == 404


def test_a_student_cannot_change_scores(client, student, quiz, graded):
    client.force_login(student)

    response = client.post(
        f"/api/courses/pmldl/items/{quiz.pk}/scores/student/set/",
        {"points": 10, "reason": "self-service"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert Score.objects.get(item=quiz, student__username="student").raw_points == 7


def test_a_student_asks_for_a_regrade_of_their_own_score_only(
    client, student, other_student, quiz, graded
):
    client.force_login(student)

    mine = client.post(
        "/api/courses/pmldl/regrades/mine/",
        {"item_id": quiz.pk, "message": "Q2 was right"},
        content_type="application/json",
    )
    listed = client.get("/api/courses/pmldl/regrades/mine/").json()

    assert mine.status_code == 201
    assert [(r["username"], r["status"]) for r in listed] == [("student", "open")]
    client.force_login(other_student)
    assert client.get("/api/courses/pmldl/regrades/mine/").json() == []


def test_staff_cannot_use_the_student_endpoints(client, ta, graded):
    client.force_login(ta)

    assert client.get("/api/courses/pmldl/grades/me/").status_code == 403


def test_an_outsider_gets_not_found(client, outsider, graded):
    client.force_login(outsider)

    assert client.get("/courses/pmldl/grades/").status_code == 404
    assert client.get("/api/courses/pmldl/gradebook/").status_code == 404


def test_the_score_page_is_only_for_students_of_the_course(client, ta, quiz, outsider, instructor):
    client.force_login(ta)

    assert (
        client.get(f"/courses/pmldl/gradebook/items/{quiz.pk}/students/outsider/").status_code
        == 404
    )
    assert (
        client.get(f"/courses/pmldl/gradebook/items/{quiz.pk}/students/instructor/").status_code
        == 404
    )


def test_a_ta_reads_the_scheme_page_but_cannot_post_a_new_scheme(client, ta, scheme):
    client.force_login(ta)

    assert client.get("/courses/pmldl/scheme/").status_code == 200
    assert client.post("/courses/pmldl/scheme/", {"components": "x, 1"}).status_code == 403
