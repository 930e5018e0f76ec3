"""The course itself: who is in it and in what role, its project teams, its lectures.

These models sit at the bottom of the import graph: ``grading`` and ``autograder`` refer to them,
never the other way round.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"{value!r} is not a known time zone (for example Europe/Moscow)."
        ) from exc


class Course(models.Model):
    code = models.SlugField(
        max_length=40,
        unique=True,
        help_text="Short name used in URLs and commands, for example pmldl.",
    )
    title = models.CharField(max_length=200)
    term = models.CharField(max_length=40, help_text="For example Fall 2026.")
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="Deadlines are shown to students in this time zone.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.title} ({self.term})"


class Role(models.TextChoices):
    INSTRUCTOR = "instructor", "Instructor"
    TA = "ta", "Teaching assistant"
    STUDENT = "student", "Student"


STAFF_ROLES = frozenset({Role.INSTRUCTOR, Role.TA})


class Enrollment(models.Model):
    """A person's one role in one course."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STUDENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="one_enrollment_per_course"),
        ]
        indexes = [models.Index(fields=["course", "role"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.course.code} as {self.get_role_display()}"


class Team(models.Model):
    """A group for the final project. The project is graded once per team."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(Enrollment, through="TeamMembership", related_name="teams")

    class Meta:
        ordering = ["course", "name"]
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="unique_team_name_per_course"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.course.code})"


class TeamMembership(models.Model):
    """A student's place in a team; unique per enrollment, so one team per student per course."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    enrollment = models.OneToOneField(
        Enrollment, on_delete=models.CASCADE, related_name="team_membership"
    )

    class Meta:
        ordering = ["team", "enrollment__user__username"]

    def __str__(self) -> str:
        return f"{self.enrollment.user} in {self.team.name}"

    def clean(self) -> None:
        if self.team_id is None or self.enrollment_id is None:
            return  # the form reports the missing field itself
        if self.enrollment.course_id != self.team.course_id:
            raise ValidationError("The student is not enrolled in this team's course.")
        if self.enrollment.role != Role.STUDENT:
            raise ValidationError("Only students are members of project teams.")


class Lecture(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lectures")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["course", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="unique_lecture_number"),
        ]

    def __str__(self) -> str:
        return f"Lecture {self.number}: {self.title}"
