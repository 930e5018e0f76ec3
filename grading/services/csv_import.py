"""Importing scores from CSV: validate every row first, apply nothing unless all are right.

Two formats, told apart by the header:
- wide, as ``grading.exports`` writes it: ``username`` (``email`` and ``full name`` optional), one
  column per item; component, total and letter columns are recognised and ignored. A cell equal to
  what the export shows for that score is unchanged and skipped, so re-importing an exported file
  changes nothing; an empty cell is skipped; ``EX`` excuses the item;
- long: ``username, item, points[, comment]``, one score a line.

A cell holds the points that count, as the export shows them. For a plain score that is the raw
score; where the score shown is not the raw one (a late penalty, an override, a team adjustment),
an imported value is recorded as an override, so the cell is exactly what counts afterwards.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from courseapp.courses.models import Course
from grading import exports, selectors
from grading.computation import Status
from grading.models import GradedItem, Score, Source
from grading.services.scores import points_value, score_override, score_set, score_set_status

MAX_BYTES = 5 * 1024 * 1024
LONG_HEADER = ["username", "item", "points"]


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class PlannedChange:
    line: int
    student: object
    item: GradedItem
    old: str  # as the export shows it
    new: str
    points: Decimal | None  # None: excuse
    comment: str | None = None
    as_override: bool = False  # the score shown is not the raw score: set what counts


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    changes: list[PlannedChange] = field(default_factory=list)
    unchanged: int = 0
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _rows(data: bytes | str) -> list[tuple[int, list[str]]]:
    """``(line number, cells)`` for each record; a quoted cell may span lines."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise ValidationError(f"The file is over {MAX_BYTES // (1024 * 1024)} MB.")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                "The file is not UTF-8 text; export it from the spreadsheet as CSV (UTF-8)."
            ) from exc
    reader = csv.reader(io.StringIO(data))
    rows, line = [], 1
    try:
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationError(
            f"The file is not valid CSV (line {reader.line_num}): {exc}."
        ) from exc
    return rows


class _Planner:
    """Checks cells against the course and the current gradebook, collecting errors and changes."""

    def __init__(self, course: Course):
        self.gradebook = selectors.gradebook_for_course(course=course)
        if self.gradebook is None:
            raise ValidationError(f"{course.code} has no grading scheme yet.")
        self.items = {item.name: item for item in self.gradebook.items}
        self.students = {s.username: s for s in self.gradebook.students}
        self.report = ImportReport()
        self.seen: dict[tuple[int, int], int] = {}

    def error(self, line: int, message: str) -> None:
        self.report.errors.append(RowError(line, message))

    def student(self, line: int, username: str):
        student = self.students.get(username.strip())
        if student is None:
            self.error(line, f"unknown student {username.strip()!r} (not a student of the course)")
        return student

    def cell(self, line: int, student, item: GradedItem, value: str, comment=None) -> None:
        value = value.strip()
        if not value:
            return
        key = (student.pk, item.pk)
        if key in self.seen:
            self.error(
                line, f"{student.username} / {item.name} already given on line {self.seen[key]}"
            )
            return
        self.seen[key] = line
        result = self.gradebook.breakdowns[student.pk].item(item.pk)
        current = exports.item_cell(result)
        points = None
        if value.upper() != "EX":
            try:
                points = points_value(value, maximum=item.max_points, what=f"{item.name}: points")
            except ValidationError as exc:
                self.error(line, exc.messages[0])
                return
        if value.upper() == current.upper() or (points is not None and _same(points, current)):
            self.report.unchanged += 1
            return
        shown_is_raw = not (result.overridden or result.penalty) and (
            result.earned is None or result.earned == result.raw_points
        )
        self.report.changes.append(
            PlannedChange(
                line,
                student,
                item,
                current,
                value,
                points,
                comment,
                as_override=points is not None and not shown_is_raw,
            )
        )


def _same(points: Decimal, shown: str) -> bool:
    try:
        return shown != "" and shown != "EX" and Decimal(shown) == points
    except ArithmeticError:
        return False


def _plan_wide(planner: _Planner, rows: list[tuple[int, list[str]]]) -> None:
    head = [h.strip() for h in rows[0][1]]
    known = set(exports.IDENTITY_COLUMNS) | set(exports.SUMMARY_COLUMNS)
    known |= {exports.component_column(c.name) for c in planner.gradebook.spec.components}
    columns = {}
    for index, name in enumerate(head):
        if name in planner.items:
            columns[index] = planner.items[name]
        elif name.lower() not in known and name not in known:
            planner.error(1, f"unknown item column {name!r}")
    username_at = [h.lower() for h in head].index("username")
    for line, cells in rows[1:]:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(head):
            planner.error(line, f"{len(cells)} cells but the header has {len(head)} columns")
            continue
        student = planner.student(line, cells[username_at]) if username_at < len(cells) else None
        if student is None:
            continue
        for index, item in columns.items():
            if index < len(cells):
                planner.cell(line, student, item, cells[index])


def _plan_long(planner: _Planner, rows: list[tuple[int, list[str]]]) -> None:
    for line, cells in rows[1:]:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < 3:
            planner.error(line, "expected username, item, points[, comment]")
            continue
        student = planner.student(line, cells[0])
        item = planner.items.get(cells[1].strip())
        if item is None:
            planner.error(line, f"unknown item {cells[1].strip()!r}")
        if not cells[2].strip():
            planner.error(line, "no points given")
            continue
        if student is not None and item is not None:
            comment = cells[3].strip() if len(cells) > 3 else None
            planner.cell(line, student, item, cells[2], comment)


def gradebook_import(
    *, course: Course, data: bytes | str, by, dry_run: bool = False
) -> ImportReport:
    """Validate the whole file; unless ``dry_run`` or any row is wrong, apply it in one transaction.

    Raises ValidationError only for a file that cannot be read at all; row problems are in the
    report, each with its line number.
    """
    rows = _rows(data)
    if not rows or not any(h.strip() for h in rows[0][1]):
        raise ValidationError("The file is empty; the first line must be a header.")
    planner = _Planner(course)
    head = [h.strip().lower() for h in rows[0][1]]
    if head[:3] == LONG_HEADER:
        _plan_long(planner, rows)
    elif "username" in head:
        _plan_wide(planner, rows)
    else:
        raise ValidationError(
            "The header names no username column: use the export's wide format or "
            "username, item, points[, comment]."
        )
    report = planner.report
    if report.ok and not dry_run and report.changes:
        _apply(report.changes, by=by)
        report.applied = True
    return report


@transaction.atomic
def _apply(changes: list[PlannedChange], *, by) -> None:
    for change in changes:
        reason = f"CSV import, line {change.line}"
        if change.points is None:
            score_set_status(
                item=change.item,
                student=change.student,
                status=Status.EXCUSED,
                by=by,
                reason=reason,
            )
        elif change.as_override:
            score = Score.objects.get(item=change.item, student=change.student)
            score_override(score=score, points=change.points, reason=reason, by=by)
        else:
            score_set(
                item=change.item,
                student=change.student,
                points=change.points,
                by=by,
                source=Source.IMPORT,
                reason=reason,
                comment=change.comment,
            )
