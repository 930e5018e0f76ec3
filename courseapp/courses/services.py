"""Writes to courses, enrollments, teams and lectures; each says why when it refuses."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from courseapp.courses.models import Course, Enrollment, Lecture, Role, Team, TeamMembership


def course_create(*, code: str, title: str, term: str, timezone: str = "UTC") -> Course:
    course = Course(code=code, title=title, term=term, timezone=timezone)
    course.full_clean()
    course.save()
    return course


def enrollment_create(*, course: Course, user, role: Role | str = Role.STUDENT) -> Enrollment:
    existing = Enrollment.objects.filter(course=course, user=user).first()
    if existing is not None:
        raise ValidationError(
            f"{user.username} is already enrolled in {course.code} as "
            f"{existing.get_role_display().lower()}; remove that enrollment first to change "
            "the role."
        )
    enrollment = Enrollment(course=course, user=user, role=Role(role))
    enrollment.full_clean()
    enrollment.save()
    return enrollment


@transaction.atomic
def enrollment_delete(*, enrollment: Enrollment) -> None:
    if enrollment.role == Role.INSTRUCTOR:
        others = enrollment.course.enrollments.filter(role=Role.INSTRUCTOR).exclude(
            pk=enrollment.pk
        )
        if not others.exists():
            raise ValidationError("A course keeps at least one instructor; add another first.")
    enrollment.delete()


@transaction.atomic
def team_create(*, course: Course, name: str, members: list[Enrollment] = ()) -> Team:
    team = Team(course=course, name=name)
    team.full_clean()
    team.save()
    for enrollment in members:
        team_member_add(team=team, enrollment=enrollment)
    return team


def team_create_for_usernames(*, course: Course, name: str, usernames: list[str]) -> Team:
    """``team_create`` with members named by username; names anyone not enrolled."""
    members = list(
        Enrollment.objects.filter(course=course, user__username__in=usernames).select_related(
            "user"
        )
    )
    missing = sorted(set(usernames) - {m.user.username for m in members})
    if missing:
        raise ValidationError({"members": [f"Not enrolled in {course.code}: {', '.join(missing)}"]})
    return team_create(course=course, name=name, members=members)


def team_member_add(*, team: Team, enrollment: Enrollment) -> TeamMembership:
    current = TeamMembership.objects.filter(enrollment=enrollment).select_related("team").first()
    if current is not None:
        raise ValidationError(
            f"{enrollment.user.username} is already in team {current.team.name}; "
            "remove them there first."
        )
    membership = TeamMembership(team=team, enrollment=enrollment)
    membership.clean()
    membership.save()
    return membership


def lecture_create(
    *, course: Course, number: int, title: str, date: datetime.date | None = None
) -> Lecture:
    lecture = Lecture(course=course, number=number, title=title, date=date)
    lecture.full_clean()
    lecture.save()
    return lecture
