"""``{{ value|points }}``: points as people write them (8, 7.5, 89.33), by the rule the CSV and
the API follow too (``computation.shown``: cut to the places shown, never rounded up)."""

from django import template

from grading.computation import SHOWN_PLACES, shown

register = template.Library()


@register.filter
def points(value, places: int = SHOWN_PLACES) -> str:
    if value is None or value == "":
        return ""
    return shown(value, int(places))
