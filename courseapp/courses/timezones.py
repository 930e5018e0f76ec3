"""The course's time zone: the one zone every date and time of a course is shown and read in.

Pages and API views of a course run with its zone active (``permissions.course_view`` and
``CoursePermission``), so templates, form fields and serializers show and parse times in it; text
made outside a request (a score's history, a service's message) names the zone through
``course_time``.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import timezone

# "Tue 03 Mar 2026 23:59 MSK": the day, the time and the zone's abbreviation, so never ambiguous.
COURSE_TIME_FORMAT = "%a %d %b %Y %H:%M %Z"


def course_zone(course) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(course.timezone)


def course_time(moment: datetime.datetime, course=None, fmt: str = COURSE_TIME_FORMAT) -> str:
    """``moment`` in ``course``'s zone (the active zone when no course is given), labelled."""
    zone = course_zone(course) if course is not None else timezone.get_current_timezone()
    return moment.astimezone(zone).strftime(fmt)


def zone_label(course=None) -> str:
    """ "Europe/Moscow (MSK)": the zone's name and its abbreviation now, for labels and help."""
    zone = course_zone(course) if course is not None else timezone.get_current_timezone()
    abbreviation = timezone.now().astimezone(zone).strftime("%Z")
    name = getattr(zone, "key", str(zone))
    return name if abbreviation in (name, "") else f"{name} ({abbreviation})"
