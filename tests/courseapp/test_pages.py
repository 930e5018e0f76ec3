"""Logging in and the course pages, for each kind of person."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, CourseFactory, EnrollmentFactory, LectureFactory


def test_the_login_page_has_labelled_fields(client, db):
    html = client.get("/accounts/login/").content.decode()

    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html


def test_a_wrong_password_says_so(client, student):
    response = client.post("/accounts/login/", {"username": "student", "password": "wrong"})

    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_logging_in_leads_a_single_course_member_to_the_course(client, student, course):
    response = client.post(
        "/accounts/login/", {"username": "student", "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/courses/pmldl/"
    assert "Practical Machine Learning and Deep Learning" in response.content.decode()


def test_someone_in_two_courses_picks_one(client, ta, course):
    EnrollmentFactory(course=CourseFactory(code="other", title="Other course"), user=ta)
    client.force_login(ta)

    html = client.get("/").content.decode()

    assert "Practical Machine Learning and Deep Learning" in html
    assert "Other course" in html


def test_someone_in_no_course_is_told_what_to_do(client, outsider):
    client.force_login(outsider)

    html = client.get("/").content.decode()

    assert "not enrolled in any course" in html
    assert "outsider" in html


def test_pages_need_a_login(client, course):
    response = client.get("/courses/pmldl/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_student_sees_lectures_but_not_the_class_list(client, student, other_student, course):
    LectureFactory(course=course, number=1, title="Review: definitions")
    client.force_login(student)

    html = client.get("/courses/pmldl/about/").content.decode()

    assert "Review: definitions" in html
    assert "other_student" not in html


def test_staff_see_the_class_list(client, ta, student, other_student, course):
    client.force_login(ta)

    html = client.get("/courses/pmldl/about/").content.decode()

    assert "People (3)" in html
    assert "<td>other_student</td>" in html


def test_an_outsider_gets_not_found(client, outsider, course):
    client.force_login(outsider)

    assert client.get("/courses/pmldl/").status_code == 404
    assert client.get("/courses/pmldl/about/").status_code == 404


def test_logging_out_works(client, student):
    client.force_login(student)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_a_refused_page_says_why_in_the_sites_layout(client, student, course):
    client.force_login(student)

    response = client.get("/courses/pmldl/gradebook/")

    html = response.content.decode()
    assert response.status_code == 403
    assert "Your role in pmldl does not allow this." in html
    assert "Back to your courses" in html and "site.css" in html


@pytest.mark.django_db
def test_a_missing_page_is_in_the_sites_layout_when_debug_is_off(client, student, settings):
    settings.DEBUG = False
    client.force_login(student)

    response = client.get("/courses/no-such-course/")

    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()
