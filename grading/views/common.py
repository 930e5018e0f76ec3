"""Small helpers the gradebook pages share."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404

from courseapp.courses.models import Course
from grading.models import GradedItem


def course_item(course: Course, item_id: int) -> GradedItem:
    return get_object_or_404(
        GradedItem.objects.select_related("component"), pk=item_id, course=course
    )


def run_service(request, action, success: str) -> bool:
    """Call ``action()``; show ``success`` or the service's reasons as messages. True on success."""
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True
