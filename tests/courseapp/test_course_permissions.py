"""The per-course access policy that every page and endpoint asks."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from courseapp.courses.permissions import POLICY, Action, may
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory


@pytest.mark.parametrize(
    ("who", "resource", "action", "allowed"),
    [
        ("instructor", "enrollments", "change", True),
        ("ta", "enrollments", "view", True),
        ("ta", "enrollments", "change", False),
        ("student", "enrollments", "view", False),
        ("student", "course", "view", True),
        ("student", "course", "change", False),
        ("student", "teams", "view", True),
        ("student", "teams", "change", False),
        ("ta", "teams", "change", True),
        ("student", "lectures", "view", True),
        ("ta", "lectures", "change", True),
        ("outsider", "course", "view", False),
        ("outsider", "lectures", "view", False),
    ],
)
def test_it_follows_the_policy_table(request, course, who, resource, action, allowed):
    user = request.getfixturevalue(who)

    assert may(user, course, resource, action) is allowed


def test_it_lets_a_user_be_staff_in_one_course_and_student_in_another(ta, course):
    other = CourseFactory(code="other")
    EnrollmentFactory(course=other, user=ta, role="student")

    assert may(ta, course, "enrollments", Action.VIEW)
    assert not may(ta, other, "enrollments", Action.VIEW)
    assert may(ta, other, "course", Action.VIEW)


def test_it_lets_a_superuser_do_everything(course):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)

    assert all(may(admin, course, resource, Action.CHANGE) for resource in POLICY)


def test_it_refuses_anonymous_users(course):
    assert not may(AnonymousUser(), course, "course")


def test_it_treats_an_unknown_resource_as_a_bug(student, course):
    with pytest.raises(KeyError):
        may(student, course, "no-such-resource")


def test_it_asks_the_database_once_per_course_per_request(
    student, course, django_assert_num_queries
):
    with django_assert_num_queries(1):
        for resource in POLICY:
            may(student, course, resource)
