"""Importing an assignment: nbgrader source notebooks (one, or a folder of several) with their
data files, or a Python test harness with its ``autograder.toml``."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from autograder import blobs, harness, notebooks, selectors, uploads
from autograder.checks.cells import cell_checks
from autograder.checks.parsing import parse_toml, reference_files, weights_files
from autograder.checks.spec import Check, CheckError
from autograder.execution import RESERVED_NAMES
from autograder.models import Assignment, AssignmentFile, AssignmentKind, FileRole
from courseapp.courses.models import Course
from grading.models import GradedItem, ItemKind
from grading.services.items import graded_item_create

NOTEBOOK_SUFFIX = notebooks.SUFFIX


@transaction.atomic
def assignment_import(
    *,
    course: Course,
    slug: str,
    files: dict[str, bytes],
    title: str = "",
    item_name: str | None = None,
) -> Assignment:
    """Create or update an assignment from nbgrader source notebooks and the data files beside
    them, or from a Python test harness with its ``autograder.toml`` (``autograder.harness``).

    The graded item is ``item_name`` if given (it must exist), else the one the assignment already
    has, else a new Assignments item named after the title.
    """
    files = {uploads.safe_name(name): content for name, content in files.items()}
    reserved = sorted(RESERVED_NAMES & set(files))
    if reserved:
        raise ValidationError(f"{', '.join(reserved)}: the grader uses those names; rename them.")
    if harness.SPEC_NAME in files and not any(n.endswith(NOTEBOOK_SUFFIX) for n in files):
        kind, points, stored = AssignmentKind.PYTHON, *_python_files(files)
    else:
        kind, points, stored = AssignmentKind.NOTEBOOK, *_notebook_files(files)
    assignment = Assignment.objects.filter(course=course, slug=slug).first()
    if assignment is None:
        item = _item_for(course, item_name, title or slug, points)
        assignment = Assignment(course=course, slug=slug, item=item, kind=kind)
    elif item_name:
        assignment.item = _item_for(course, item_name, title or slug, points)
    if assignment.kind != kind and assignment.submissions.exists():
        raise ValidationError(
            f"{assignment} has submissions as a {assignment.get_kind_display()}; "
            "import the new kind under another slug."
        )
    _refuse_renaming_tests(assignment, stored)
    assignment.kind = kind
    assignment.title = title or assignment.title or slug
    assignment.save()
    assignment.files.all().delete()
    for role, name, content in stored:
        AssignmentFile.objects.create(
            assignment=assignment,
            role=role,
            name=name,
            sha256=blobs.put(content),
            size=len(content),
        )
    return assignment


def notebook_checks(files: dict[str, bytes]) -> tuple[Check, ...]:
    """The reference checks of an ``autograder.toml`` beside a notebook, if there is one."""
    if harness.SPEC_NAME not in files:
        return ()
    try:
        return parse_toml(files[harness.SPEC_NAME])
    except CheckError as exc:
        raise ValidationError(f"{harness.SPEC_NAME}: {exc}") from exc


def listing(names: list[str]) -> str:
    """File names as a sentence's list."""
    return ", ".join(names) if names else "nothing"


def _refuse_renaming_tests(assignment: Assignment, stored: list) -> None:
    """Going from one notebook to several (or back) renames every test (``problem1/…``), which
    the hand grades of existing submissions are keyed by."""
    after = [n for role, n, _ in stored if role == FileRole.RELEASE and n.endswith(NOTEBOOK_SUFFIX)]
    before = selectors.notebook_names(assignment) if assignment.pk else after
    if (len(before) > 1) != (len(after) > 1) and assignment.submissions.exists():
        raise ValidationError(
            f"{assignment} has submissions graded as {len(before)} notebook(s) "
            f"({listing(before)}); import {listing(after)} under another slug."
        )


def _notebook_files(files: dict[str, bytes]) -> tuple[Decimal, list]:
    """One or more nbgrader source notebooks (an nbgrader assignment folder: ``ps1`` holds
    ``problem1.ipynb``, ``problem2.ipynb`` and ``jupyter.png``); everything else is data, or
    private when checks name it. Each notebook gets its student version."""
    sources = {n: c for n, c in sorted(files.items()) if n.endswith(NOTEBOOK_SUFFIX)}
    if not sources:
        raise ValidationError(
            "Give one or more nbgrader source notebooks (.ipynb), or a Python harness with its "
            f"{harness.SPEC_NAME}."
        )
    found = list(notebook_checks(files))
    if found and len(sources) > 1:
        raise ValidationError(
            f"The checks of {harness.SPEC_NAME} apply to one notebook; with several notebooks, "
            "write each check in a grade cell of its notebook."
        )
    points = sum((c.points for c in found), Decimal(0))  # a check cell's are counted already
    in_toml, stored = len(found), []
    for name, source in sources.items():
        notebook_points, release, in_cells = _source_notebook(name, source, first=in_toml)
        names = [c.name for c in (*found[:in_toml], *in_cells)]
        if len(set(names)) != len(names):
            raise ValidationError("A check in a cell has the name of one in autograder.toml.")
        points += notebook_points
        found += in_cells
        stored += [(FileRole.SOURCE, name, source), (FileRole.RELEASE, name, release)]
    if points <= 0:
        what = f"{next(iter(sources))} has" if len(sources) == 1 else "None of the notebooks have"
        raise ValidationError(f"{what} no graded cells (nbgrader 'points').")
    private = reference_files(found) | ({harness.SPEC_NAME} & set(files))
    missing = sorted((private | weights_files(found)) - set(files))
    if missing:
        raise ValidationError(f"The checks name {', '.join(missing)}, which is not here.")
    stored += [
        (FileRole.SOURCE if n in private else FileRole.DATA, n, c)
        for n, c in files.items()
        if n not in sources
    ]
    return points, stored


def _source_notebook(name: str, source: bytes, *, first: int) -> tuple[Decimal, bytes, tuple]:
    """A source notebook's points, its student version, and the checks in its grade cells;
    refused with the reason when it cannot be graded as nbgrader would grade it."""
    try:
        notebook = notebooks.read(source, name=name)
        release = notebooks.dumps(notebooks.release_version(notebook, name=name))
    except notebooks.NotebookError as exc:
        raise ValidationError(str(exc)) from exc
    try:
        in_cells = cell_checks(notebook, first_index=first)
    except CheckError as exc:
        raise ValidationError(f"{name}: {exc}") from exc
    problem = notebooks.free_points(notebook, besides={c.name for c in in_cells})
    if problem:
        raise ValidationError(f"{name}: {problem}")
    return notebooks.graded_points(notebook), release, in_cells


def _python_files(files: dict[str, bytes]) -> tuple[Decimal, list]:
    """The spec, the harness and private files are kept from students; starter files named in
    the spec's ``files`` are the student version; anything else is data."""
    try:
        spec = harness.parse(files[harness.SPEC_NAME])
    except harness.SpecError as exc:
        raise ValidationError(str(exc)) from exc
    missing = sorted((spec.kept_from_students | weights_files(spec.checks)) - set(files))
    if missing:
        raise ValidationError(f"{harness.SPEC_NAME} names {', '.join(missing)}, which is not here.")
    stored = []
    for name, content in files.items():
        if name in spec.kept_from_students:
            role = FileRole.SOURCE
        else:
            role = FileRole.RELEASE if name in spec.files else FileRole.DATA
        stored.append((role, name, content))
    return spec.points, stored


def _item_for(course: Course, item_name: str | None, title: str, points: Decimal) -> GradedItem:
    if item_name:
        item = GradedItem.objects.filter(course=course, name=item_name).first()
        if item is None:
            raise ValidationError(f"{course.code} has no graded item {item_name!r}.")
        return item
    return graded_item_create(
        course=course,
        component="Assignments",
        name=title,
        kind=ItemKind.ASSIGNMENT,
        max_points=points,
    )
