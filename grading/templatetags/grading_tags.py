"""``{{ value|points }}``: points as people write them (8, 7.5, 89.33), the same as the CSV."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

from grading.computation import plain

register = template.Library()


@register.filter
def points(value, places: int = 2) -> str:
    if value is None or value == "":
        return ""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)
    return plain(rounded)
