"""factory_boy factories for the models tests need; a test states only what matters to it."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model

from courseapp.courses.models import Course, Enrollment, Lecture, Role, Team, TeamMembership

PASSWORD = "test-password"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"course{n}")
    title = factory.LazyAttribute(lambda c: f"Course {c.code}")
    term = "Fall 2026"
    timezone = "Europe/Moscow"


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    course = factory.SubFactory(CourseFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.STUDENT


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    course = factory.SubFactory(CourseFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    enrollment = factory.SubFactory(
        EnrollmentFactory, course=factory.SelfAttribute("..team.course")
    )


class LectureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lecture

    course = factory.SubFactory(CourseFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Lecture {n + 1}")
    date = factory.Sequence(lambda n: datetime.date(2026, 9, 1) + datetime.timedelta(weeks=n))
