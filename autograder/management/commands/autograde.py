"""``manage.py autograde --assignment SLUG FILE... [--json]``: grade one submission now (a notebook,
the notebooks of an assignment of several, Python files, a zip of them, or a folder holding them),
through the same sandbox and code as the worker, without any submission row. Exit code 0 whenever
grading itself worked, whatever the score; an error saying why when it did not
(``autograder.failures``, or a stored source that cannot be graded), never a score."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from autograder import failures, uploads
from autograder.grades import results_json
from autograder.management.commands._files import read_files
from autograder.models import Assignment
from autograder.notebooks import SourceError
from autograder.services.autograde import grade_files

MAX_BYTES = 100 * 2**20


class Command(BaseCommand):
    help = "Grade one submission for an assignment and print the results (Gradescope JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--assignment", required=True, help="slug, or course/slug")
        parser.add_argument(
            "files", nargs="+", metavar="FILE", help="notebooks, .py files, a .zip or a folder"
        )
        parser.add_argument("--json", action="store_true", help="print results.json only")

    def handle(self, *args, assignment, files, json: bool = False, **options):
        found = _assignment(assignment)
        try:
            submitted = uploads.unpack(read_files(files), max_bytes=MAX_BYTES)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        try:
            with failures.worker_resources():
                grade = grade_files(found, submitted)
        except failures.GradingFailure as exc:
            raise CommandError(f"Grading itself failed: {failures.describe(exc)}") from exc
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        results = results_json(grade)
        if json:
            self.stdout.write(_dumps(results))
            return
        for test in results["tests"]:
            score = "manual" if test["score"] is None else f"{test['score']:g}"
            self.stdout.write(f"{test['name']:<30} {score:>7} / {test['max_score']:g}")
        for note in grade.notes:
            self.stdout.write(f"note: {note}")
        self.stdout.write(
            f"total {grade.score} / {grade.max_score} in {grade.duration_seconds:.2f} s "
            f"({grade.isolation})"
        )


def _dumps(results: dict) -> str:
    return json.dumps(results, indent=2)


def _assignment(name: str) -> Assignment:
    course, _, slug = name.rpartition("/")
    matches = Assignment.objects.filter(slug=slug)
    if course:
        matches = matches.filter(course__code=course)
    if matches.count() != 1:
        where = "" if course else " (several courses have it: give course/slug)"
        raise CommandError(f"No single assignment {name!r}{where if matches else ''}.")
    return matches.get()
