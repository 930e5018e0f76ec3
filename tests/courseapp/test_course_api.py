"""The REST API for courses, enrollments, teams and lectures, checked per course."""

from __future__ import annotations

from courseapp.courses.models import Enrollment, Role
from tests.factories import PASSWORD, CourseFactory, EnrollmentFactory, LectureFactory, UserFactory


def test_it_lists_only_the_courses_a_user_is_in(api_as, student, course):
    CourseFactory(code="elsewhere")

    response = api_as(student).get("/api/courses/")

    assert response.status_code == 200
    assert [c["code"] for c in response.json()] == ["pmldl"]


def test_it_shows_an_outsider_no_course(api_as, outsider, course):
    client = api_as(outsider)

    assert client.get("/api/courses/").json() == []
    assert client.get("/api/courses/pmldl/").status_code == 404
    assert client.get("/api/courses/pmldl/lectures/").status_code == 404


def test_it_tells_a_member_their_role(api_as, ta):
    response = api_as(ta).get("/api/courses/pmldl/")

    assert response.json() == {
        "code": "pmldl",
        "title": "Practical Machine Learning and Deep Learning",
        "term": "Fall 2026",
        "timezone": "Europe/Moscow",
        "your_role": "ta",
    }


def test_it_asks_anonymous_requests_to_authenticate(client, course):
    for url in ("/api/courses/", "/api/courses/pmldl/"):
        response = client.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_an_outsider_cannot_tell_a_course_exists(api_as, outsider, course):
    real = api_as(outsider).get("/api/courses/pmldl/")
    missing = api_as(outsider).get("/api/courses/no-such-course/")

    assert real.status_code == missing.status_code == 404
    assert real.json() == missing.json()


def test_a_lecture_number_must_fit(api_as, ta):
    response = api_as(ta).post(
        "/api/courses/pmldl/lectures/", {"number": 40000, "title": "Too far"}, format="json"
    )

    assert response.status_code == 400


def test_a_student_cannot_list_enrollments(api_as, student):
    response = api_as(student).get("/api/courses/pmldl/enrollments/")

    assert response.status_code == 403


def test_staff_list_enrollments_filtered_by_role(api_as, ta, instructor, student, other_student):
    response = api_as(ta).get("/api/courses/pmldl/enrollments/", {"role": "student"})

    assert response.status_code == 200
    assert sorted(e["username"] for e in response.json()) == ["other_student", "student"]


def test_an_instructor_enrolls_a_user(api_as, instructor, course):
    UserFactory(username="newcomer")

    response = api_as(instructor).post(
        "/api/courses/pmldl/enrollments/", {"username": "newcomer", "role": "ta"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["role"] == "ta"
    assert Enrollment.objects.get(course=course, user__username="newcomer").role == Role.TA


def test_enrolling_someone_twice_says_why_it_refuses(api_as, instructor, student):
    response = api_as(instructor).post(
        "/api/courses/pmldl/enrollments/", {"username": "student"}, format="json"
    )

    assert response.status_code == 400
    assert "already enrolled in pmldl as student" in str(response.json())


def test_a_ta_cannot_enroll_anyone(api_as, ta):
    UserFactory(username="newcomer")

    response = api_as(ta).post(
        "/api/courses/pmldl/enrollments/", {"username": "newcomer"}, format="json"
    )

    assert response.status_code == 403


def test_an_instructor_removes_an_enrollment_but_not_the_last_instructor(
    api_as, instructor, student
):
    client = api_as(instructor)
    student_enrollment = Enrollment.objects.get(user=student)
    own = Enrollment.objects.get(user=instructor)

    assert (
        client.delete(f"/api/courses/pmldl/enrollments/{student_enrollment.pk}/").status_code == 204
    )
    refused = client.delete(f"/api/courses/pmldl/enrollments/{own.pk}/")
    assert refused.status_code == 400
    assert "at least one instructor" in str(refused.json())


def test_an_enrollment_of_another_course_is_not_found(api_as, instructor):
    elsewhere = EnrollmentFactory(course=CourseFactory(code="elsewhere"))

    response = api_as(instructor).delete(f"/api/courses/pmldl/enrollments/{elsewhere.pk}/")

    assert response.status_code == 404


def test_staff_form_a_team_that_students_can_see(api_as, ta, student, other_student):
    created = api_as(ta).post(
        "/api/courses/pmldl/teams/",
        {"name": "Backprop", "members": ["student", "other_student"]},
        format="json",
    )
    seen = api_as(student).get("/api/courses/pmldl/teams/")

    assert created.status_code == 201
    [team] = seen.json()
    assert team["name"] == "Backprop"
    assert sorted(team["members"]) == ["other_student", "student"]


def test_a_team_names_members_that_are_not_enrolled(api_as, ta, outsider):
    response = api_as(ta).post(
        "/api/courses/pmldl/teams/", {"name": "Ghosts", "members": ["outsider"]}, format="json"
    )

    assert response.status_code == 400
    assert "Not enrolled in pmldl: outsider" in str(response.json())


def test_a_student_cannot_form_a_team(api_as, student):
    response = api_as(student).post("/api/courses/pmldl/teams/", {"name": "Mine"}, format="json")

    assert response.status_code == 403


def test_members_read_lectures_and_staff_add_them(api_as, ta, student, course):
    LectureFactory(course=course, number=1, title="Review")
    added = api_as(ta).post(
        "/api/courses/pmldl/lectures/",
        {"number": 2, "title": "CNNs", "date": "2026-09-08"},
        format="json",
    )
    listed = api_as(student).get("/api/courses/pmldl/lectures/")

    assert added.status_code == 201
    assert [(lec["number"], lec["title"]) for lec in listed.json()] == [
        (1, "Review"),
        (2, "CNNs"),
    ]


def test_a_duplicate_lecture_number_is_refused(api_as, ta, course):
    LectureFactory(course=course, number=1)

    response = api_as(ta).post(
        "/api/courses/pmldl/lectures/", {"number": 1, "title": "Again"}, format="json"
    )

    assert response.status_code == 400


def test_token_authentication_works(client, student, course):
    token = client.post("/api/auth/token/", {"username": "student", "password": PASSWORD}).json()

    response = client.get("/api/courses/", HTTP_AUTHORIZATION=f"Token {token['token']}")

    assert response.status_code == 200
    assert len(response.json()) == 1
