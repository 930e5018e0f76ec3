"""``manage.py import_assignment --course pmldl --slug a1 SOURCE.ipynb [MORE.ipynb DATA...]`` (or
an nbgrader assignment folder: ``--slug ps1 source/ps1``), or for Python files ``...
autograder.toml test_x.py [STARTER.py DATA...]`` (see ``autograder.harness``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from autograder.management.commands._files import read_files
from autograder.services.assignments import assignment_import
from courseapp.courses.models import Course


class Command(BaseCommand):
    help = (
        "Create or update an autograded assignment from nbgrader source notebooks and data (or "
        "their folder), or from a Python test harness with its autograder.toml."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--title", default="")
        parser.add_argument("--item", help="the graded item it scores (default: a new one)")
        parser.add_argument(
            "paths",
            nargs="+",
            help="the source notebooks or autograder.toml, then other files; or their folder",
        )

    def handle(self, *args, course, slug, title, item, paths, **options):
        found = Course.objects.filter(code=course).first()
        if found is None:
            raise CommandError(f"No course with code {course!r}.")
        files = read_files(paths)
        try:
            assignment = assignment_import(
                course=found, slug=slug, files=files, title=title, item_name=item
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Imported {assignment} ({assignment.files.count()} files), scored into "
            f"{assignment.item.name!r}."
        )
