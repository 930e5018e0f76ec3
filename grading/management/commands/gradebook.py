"""``manage.py gradebook export|import``: the same CSV as the gradebook pages, from a shell."""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from courseapp.courses.models import Course
from courseapp.courses.permissions import Action, may
from grading import exports, selectors
from grading.services.csv_import import gradebook_import


class Command(BaseCommand):
    help = "Export the gradebook as CSV, or import scores from CSV (all rows or none)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="write the wide gradebook CSV")
        export.add_argument("--course", required=True)
        export.add_argument("--output", help="file to write (default: standard output)")
        imp = actions.add_parser("import", help="import a wide or long CSV of scores")
        imp.add_argument("--course", required=True)
        imp.add_argument("file", help="CSV file ('-' for standard input)")
        imp.add_argument("--dry-run", action="store_true", help="validate and report only")
        imp.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="a staff member the history names as making the changes (default: nobody; "
            "the history shows the change as an import without a person)",
        )

    def handle(self, *args, action: str, course: str, **options):
        found = Course.objects.filter(code=course).first()
        if found is None:
            raise CommandError(f"No course with code {course!r}.")
        if action == "export":
            return self.export(found, options.get("output"))
        by = self._staff(found, options["as_user"]) if options["as_user"] else None
        return self.import_(found, options["file"], options["dry_run"], by)

    def _staff(self, course: Course, username: str):
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not may(user, course, "gradebook", Action.CHANGE):
            raise CommandError(f"{username!r} is not staff of {course.code}.")
        return user

    def export(self, course: Course, output: str | None) -> None:
        gradebook = selectors.gradebook_for_course(course=course)
        if gradebook is None:
            raise CommandError(f"{course.code} has no grading scheme yet.")
        text = exports.gradebook_csv(gradebook)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {len(gradebook.students)} students to {output}.")
        else:
            self.stdout.write(text, ending="")

    def import_(self, course: Course, path: str, dry_run: bool, by) -> None:
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            report = gradebook_import(course=course, data=data, by=by, dry_run=dry_run)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for error in report.errors:
            self.stderr.write(f"error: {error}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} bad row(s); nothing was imported.")
        for change in report.changes:
            self.stdout.write(
                f"line {change.line}: {change.student.username} / {change.item.name}: "
                f"{change.old or '(none)'} -> {change.new}"
            )
        verb = "would change" if dry_run else "changed"
        self.stdout.write(f"{len(report.changes)} score(s) {verb}, {report.unchanged} unchanged.")
