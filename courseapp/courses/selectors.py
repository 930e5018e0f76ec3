"""Reads about courses and the people in them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    F,
    FilteredRelation,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)

from courseapp.courses.models import Course, Enrollment, Lecture, Role, Team, TeamMembership
from courseapp.prepared import prepared


def course_role(*, user, course: Course) -> Role | None:
    """The user's role in the course, or None for someone not enrolled.

    Cached on the user object, so the many checks of one request cost one query per course (none
    after ``course_with_role``).
    """
    if not user.is_authenticated:
        return None
    cache = _roles(user)
    if course.pk not in cache:
        role = (
            Enrollment.objects.filter(course=course, user=user)
            .values_list("role", flat=True)
            .first()
        )
        cache[course.pk] = Role(role) if role else None
    return cache[course.pk]


def _roles(user) -> dict[int, Role | None]:
    """Course pk → the user's role there, as read in this request (kept on the user object)."""
    return user.__dict__.setdefault("_course_roles", {})


def course_with_role(*, user, code: str) -> Course | None:
    """The course named ``code`` (None if there is none), read in one query with ``user``'s role
    in it, which ``course_role`` then answers without asking again: every course request starts
    here, a whole class at once on exam day."""
    if not user.is_authenticated:
        return Course.objects.filter(code=code).first()
    course = next(iter(_course_with_role(code, user.pk)), None)
    if course is not None:
        role = course.__dict__.pop("user_role")
        _roles(user)[course.pk] = Role(role) if role else None
    return course


@prepared(str, int)
def _course_with_role(code: str, user_pk: int) -> QuerySet[Course]:
    # A LEFT JOIN to the one enrollment (one per course and user), compiled once: every course
    # request reads it (bench/request_cpu.py).
    mine = FilteredRelation("enrollments", condition=Q(enrollments__user=user_pk))
    return Course.objects.filter(code=code).annotate(mine=mine, user_role=F("mine__role"))[:1]


def student_enrollments(*, course: Course | int) -> QuerySet[Enrollment]:
    """The course's students, in class-list order: who "a student of the course" is, everywhere."""
    return (
        Enrollment.objects.filter(course=course, role=Role.STUDENT)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )


def is_student(*, user, course: Course | int) -> bool:
    """Whether ``user`` is enrolled in ``course`` as a student (``course``: the course, or its id
    where the caller holds only that, so it is not loaded)."""
    return student_enrollments(course=course).filter(user=user).exists()


def require_student(*, user, course: Course | int) -> None:
    """A ValidationError unless ``user`` is a student of ``course``. Answered from the role this
    request already read (``course_role`` keeps it on the user) when that says "student"; asked
    of the database otherwise, which also gives the refusal its words."""
    course_pk = course.pk if isinstance(course, Course) else course
    if _roles(user).get(course_pk) == Role.STUDENT or is_student(user=user, course=course):
        return
    if not isinstance(course, Course):
        course = Course.objects.get(pk=course)
    raise ValidationError(f"{user.username} is not a student of {course.code}.")


def course_list_for_user(*, user) -> QuerySet[Course]:
    """Courses the user may open: the ones they are enrolled in (all of them for a superuser)."""
    if not user.is_authenticated:
        return Course.objects.none()
    if user.is_superuser:
        return Course.objects.all()
    return Course.objects.filter(enrollments__user=user).distinct()


def enrollment_list(*, course: Course, role: Role | None = None) -> QuerySet[Enrollment]:
    enrollments = Enrollment.objects.filter(course=course).select_related("user")
    if role is not None:
        enrollments = enrollments.filter(role=role)
    # Instructors first, then TAs, then students, each by name.
    rank = Case(
        When(role=Role.INSTRUCTOR, then=Value(0)),
        When(role=Role.TA, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return enrollments.order_by(rank, "user__last_name", "user__username")


def team_list(*, course: Course) -> QuerySet[Team]:
    memberships = TeamMembership.objects.select_related("enrollment__user").order_by(
        "enrollment__user__last_name", "enrollment__user__username"
    )
    return (
        Team.objects.filter(course=course)
        .prefetch_related(Prefetch("memberships", queryset=memberships))
        .order_by("name")
    )


def lecture_list(*, course: Course) -> QuerySet[Lecture]:
    return Lecture.objects.filter(course=course).order_by("number")
