"""The gradebook as CSV, in the wide format Moodle and Canvas users know.

``username, email, full name``, one column per item (the final points that count, ``EX`` for an
excused item, empty when there is no score yet), one per component (``<name> total``: its
share), ``total``, ``rounded total``, ``letter``. Every number comes from the breakdown, as on
the pages; shares and totals are cut to six decimals by ``computation.shown`` (never rounded up),
so the ``total`` column rounds half-up to the ``rounded total`` beside it.
"""

from __future__ import annotations

import csv
import io

from grading.computation import KEPT_PLACES, Breakdown, ItemResult, ItemState, plain, shown
from grading.selectors import Gradebook

IDENTITY_COLUMNS = ["username", "email", "full name"]
SUMMARY_COLUMNS = ["total", "rounded total", "letter"]
EXCUSED = ItemState.EXCUSED  # read 60,000 times in a gradebook: a module name, not an attribute


def item_cell(result: ItemResult) -> str:
    if result.state == EXCUSED:
        return "EX"
    if result.earned is None:
        return ""
    return plain(result.earned)


def component_column(name: str) -> str:
    return f"{name} total"


def header(gradebook: Gradebook) -> list[str]:
    items = [item.name for item in gradebook.items]
    components = [component_column(c.name) for c in gradebook.spec.components]
    return [*IDENTITY_COLUMNS, *items, *components, *SUMMARY_COLUMNS]


def row(gradebook: Gradebook, student, breakdown: Breakdown, item_ids=None) -> list[str]:
    """One student's row; ``item_ids`` (the gradebook's items' ids, in order) spares a caller
    that writes many rows reading them again for each."""
    if item_ids is None:
        item_ids = [item.pk for item in gradebook.items]
    cells = [student.username, student.email, student.get_full_name()]
    results = breakdown.item_results
    cells += [item_cell(results[item_id]) for item_id in item_ids]
    cells += [shown(component.share, KEPT_PLACES) for component in breakdown.components]
    cells += [shown(breakdown.total, KEPT_PLACES), plain(breakdown.rounded_total), breakdown.letter]
    return cells


def gradebook_csv(gradebook: Gradebook) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header(gradebook))
    item_ids = [item.pk for item in gradebook.items]
    writer.writerows(
        row(gradebook, student, breakdown, item_ids) for student, breakdown in gradebook.rows()
    )
    return out.getvalue()
