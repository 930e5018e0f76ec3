"""Course pages: the list of one's courses, and a course's lectures, teams and people (its home
page, a dashboard by role, is in ``courseapp.dashboard``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from courseapp.courses import selectors
from courseapp.courses.permissions import course_view, may


@login_required
def home(request):
    """Someone in exactly one course goes straight to it; anyone else picks."""
    courses = list(selectors.course_list_for_user(user=request.user))
    if len(courses) == 1:
        return redirect("course-detail", course_code=courses[0].code)
    return render(request, "courses/course_list.html", {"courses": courses})


@login_required
@course_view("course")
def course_detail(request, course):
    can_see_roster = may(request.user, course, "enrollments")
    context = {
        "course": course,
        "role": selectors.course_role(user=request.user, course=course),
        "lectures": selectors.lecture_list(course=course),
        "teams": selectors.team_list(course=course),
        "can_see_roster": can_see_roster,
        "enrollments": selectors.enrollment_list(course=course) if can_see_roster else None,
    }
    return render(request, "courses/course_detail.html", context)
