"""``{% course_nav %}``: the course's sections for the user's role, the current one marked."""

from __future__ import annotations

from django import template
from django.urls import reverse

from courseapp.courses.permissions import may
from courseapp.courses.timezones import zone_label

register = template.Library()

# (label, url name, the url names that belong to the section)
STUDENT = [
    ("Home", "course-detail", {"course-detail"}),
    ("Quizzes", "quiz-list", {"quiz-"}),
    ("Assignments", "assignment-list", {"assignment-", "submission-"}),
    ("My grades", "my-grades", {"my-"}),
    ("Grading scheme", "grading-scheme", {"grading-scheme"}),
    ("Course", "course-about", {"course-about"}),
]
STAFF = [
    ("Home", "course-detail", {"course-detail"}),
    ("Gradebook", "gradebook", {"gradebook", "gradebook-", "score-detail", "item-", "team-scores"}),
    ("Assignments", "assignment-list", {"assignment-", "submission-", "manual-grading"}),
    ("Quizzes", "quiz-list", {"quiz-"}),
    ("Regrade requests", "regrade-queue", {"regrade-queue"}),
    ("Extensions", "extensions", {"extensions"}),
    ("Grading scheme", "grading-scheme", {"grading-scheme", "grades-release"}),
    ("People", "course-about", {"course-about"}),
]


@register.inclusion_tag("dashboard/_course_nav.html", takes_context=True)
def course_nav(context):
    course, request = context.get("course"), context.get("request")
    if course is None or request is None or not request.user.is_authenticated:
        return {"links": []}
    sections = STAFF if may(request.user, course, "gradebook") else STUDENT
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    links = [
        {
            "label": label,
            "url": reverse(name, kwargs={"course_code": course.code}),
            "current": any(
                current == m or (m.endswith("-") and current.startswith(m)) for m in members
            ),
        }
        for label, name, members in sections
    ]
    # Every time on a course's pages is in the course's zone: say which, once, on every page.
    return {"course": course, "links": links, "zone": zone_label(course)}
