"""The rules the course services keep, whoever calls them (API, admin, seed)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from courseapp.courses import services
from courseapp.courses.models import Enrollment, Role
from tests.factories import CourseFactory, EnrollmentFactory, TeamFactory


def test_a_student_is_in_one_team_per_course(course, student):
    enrollment = Enrollment.objects.get(user=student)
    services.team_create(course=course, name="First", members=[enrollment])

    with pytest.raises(ValidationError, match="already in team First"):
        services.team_create(course=course, name="Second", members=[enrollment])


def test_a_failed_team_creation_leaves_no_team(course, student):
    enrollment = Enrollment.objects.get(user=student)
    services.team_create(course=course, name="First", members=[enrollment])

    with pytest.raises(ValidationError):
        services.team_create(course=course, name="Second", members=[enrollment])

    assert not course.teams.filter(name="Second").exists()


def test_only_students_of_the_course_join_its_teams(course, ta):
    team = TeamFactory(course=course)
    elsewhere = EnrollmentFactory(course=CourseFactory(code="other"), role=Role.STUDENT)

    with pytest.raises(ValidationError, match="Only students"):
        services.team_member_add(team=team, enrollment=Enrollment.objects.get(user=ta))
    with pytest.raises(ValidationError, match="not enrolled in this team's course"):
        services.team_member_add(team=team, enrollment=elsewhere)


def test_a_course_needs_a_known_time_zone(db):
    with pytest.raises(ValidationError, match="not a known time zone"):
        services.course_create(code="x", title="X", term="Fall 2026", timezone="Mars/Olympus")
