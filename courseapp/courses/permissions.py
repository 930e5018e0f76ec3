"""Who may see or change what in a course: the one place every view and API asks.

The policy is a table from a course resource to the roles that may view it and the roles that may
change it. Being enrolled is the only way into a course (a Django superuser may do everything); a
person outside a course gets "not found", so course codes do not leak. Rules about one's own rows
(a student reads only their own grades) are checked by the views of those resources, on top of this.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from rest_framework import permissions as drf_permissions

from courseapp.courses.models import STAFF_ROLES, Course, Role
from courseapp.courses.selectors import course_role, course_with_role
from courseapp.courses.timezones import course_zone

MEMBERS = frozenset(Role)
STAFF = STAFF_ROLES
INSTRUCTORS = frozenset({Role.INSTRUCTOR})


class Action(StrEnum):
    VIEW = "view"
    CHANGE = "change"


@dataclass(frozen=True)
class Rule:
    view: frozenset[Role]
    change: frozenset[Role]


POLICY: dict[str, Rule] = {
    "course": Rule(view=MEMBERS, change=INSTRUCTORS),
    "enrollments": Rule(view=STAFF, change=INSTRUCTORS),
    "teams": Rule(view=MEMBERS, change=STAFF),
    "lectures": Rule(view=MEMBERS, change=STAFF),
    # The whole gradebook: every student's scores, history, extensions, publishing, CSV.
    "gradebook": Rule(view=STAFF, change=STAFF),
    # The scheme is shown to everyone (students see how letters follow); instructors change it.
    "grading_scheme": Rule(view=MEMBERS, change=INSTRUCTORS),
    # Autograded assignments: every member reads them (students download the student version);
    # staff change them (import, regrade). A student's submissions are narrowed to their own.
    "assignments": Rule(view=MEMBERS, change=STAFF),
    "submissions": Rule(view=MEMBERS, change=MEMBERS),
    # Quizzes: every member reads them; staff write them, set accommodations and grade answers.
    # Attempts: students start and save their own (the views look attempts up by the student).
    "quizzes": Rule(view=MEMBERS, change=STAFF),
    "quiz_attempts": Rule(view=MEMBERS, change=frozenset({Role.STUDENT})),
    # A student's own grades and regrade requests; the views narrow them to the student's rows.
    "own_grades": Rule(view=frozenset({Role.STUDENT}), change=frozenset({Role.STUDENT})),
}


def may(user, course: Course, resource: str, action: Action | str = Action.VIEW) -> bool:
    """May ``user`` perform ``action`` on ``course``'s ``resource``?"""
    rule = POLICY[resource]  # an unknown resource is a programming error, not a "no"
    if not is_course_member(user, course):
        return False
    if user.is_superuser:
        return True
    allowed = rule.view if Action(action) is Action.VIEW else rule.change
    return course_role(user=user, course=course) in allowed


def is_course_member(user, course: Course) -> bool:
    return user.is_authenticated and (
        user.is_superuser or course_role(user=user, course=course) is not None
    )


def course_for(user, code: str, resource: str, action: Action | str = Action.VIEW) -> Course:
    """The course named by ``code`` if ``user`` may do ``action`` on its ``resource``.

    Raises Http404 for a course the user is not in (or that does not exist) and PermissionDenied for
    a member whose role does not allow the action.
    """
    course = course_with_role(user=user, code=code)  # one query: the role is kept for ``may``
    # The same answer whether the course does not exist or the user is not in it.
    if course is None or not is_course_member(user, course):
        raise Http404("No such course.")
    if not may(user, course, resource, action):
        raise PermissionDenied(f"Your role in {course.code} does not allow this.")
    return course


def course_view(resource: str, action: Action | str | None = None):
    """Decorate a page view taking ``course_code``: it receives ``course`` instead, checked.

    Without ``action``, reading (GET, HEAD) needs "view" and anything else (a form's POST) needs
    "change", as in ``CoursePermission``.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, course_code: str, *args, **kwargs):
            needed = action or (
                Action.VIEW if request.method in drf_permissions.SAFE_METHODS else Action.CHANGE
            )
            course = course_for(request.user, course_code, resource, needed)
            # Dates on a course's pages are read and shown in the course's time zone.
            with timezone.override(course_zone(course)):
                return view(request, course, *args, **kwargs)

        return wrapper

    return decorator


class CoursePermission(drf_permissions.BasePermission):
    """DRF permission for views under ``courses/<course_code>/``.

    The view names its ``course_resource``; safe methods need "view", the rest "change". The checked
    course is left on ``view.course`` for the view to use.
    """

    def has_permission(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return False
        action = Action.VIEW if request.method in drf_permissions.SAFE_METHODS else Action.CHANGE
        view.course = course_for(
            request.user, view.kwargs["course_code"], view.course_resource, action
        )
        # Times in and out of a course's API are in its zone, as on its pages (naive input too);
        # CourseTimeZoneMiddleware ends this with the request.
        timezone.activate(course_zone(view.course))
        return True
