"""A course's home page: the student's dashboard, or the staff's, by role."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from courseapp.courses.permissions import course_view, may
from courseapp.courses.selectors import course_role
from courseapp.dashboard import selectors


@login_required
@course_view("course")
def course_home(request, course):
    role = course_role(user=request.user, course=course)
    context = {"course": course, "role": role}
    if may(request.user, course, "gradebook"):  # TAs, instructors, superusers
        context["dash"] = selectors.staff_dashboard(course=course)
        context["is_instructor"] = may(request.user, course, "grading_scheme", "change")
        return render(request, "dashboard/staff.html", context)
    # Anyone else who may view the course is enrolled, and so a student.
    context["dash"] = selectors.student_dashboard(course=course, student=request.user)
    return render(request, "dashboard/student.html", context)
