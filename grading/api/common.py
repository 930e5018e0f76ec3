"""Shared pieces of the gradebook API views."""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from courseapp.courses.permissions import CoursePermission
from grading import selectors


def _gradebook_or_404(course, **kwargs):
    book = selectors.gradebook_for_course(course=course, **kwargs)
    if book is None:
        raise NotFound(f"{course.code} has no grading scheme yet.")
    return book


class CourseApi(APIView):
    permission_classes = [CoursePermission]
