"""Request-scoped state of a course's pages and API views."""

from __future__ import annotations

from django.utils import timezone


class CourseTimeZoneMiddleware:
    """A course's API views activate its time zone (``CoursePermission``); it ends with the
    request, so the next request served by the same thread starts from the site's zone again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
