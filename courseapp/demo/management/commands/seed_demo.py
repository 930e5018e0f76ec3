"""``manage.py seed_demo``: create the PMLDL demo course; safe to run again."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from autograder.blobs import StorageUnreachable
from courseapp.demo.services import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create the demo course pmldl with its people, teams, lectures and grading scheme."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="seed even with DEBUG off (the demo accounts share a published password)",
        )

    def handle(self, *args, allow_production: bool, **options):
        if not settings.DEMO_SEED_ALLOWED and not allow_production:
            raise CommandError(
                "DEBUG is off: the demo accounts have a well-known password. "
                "Pass --allow-production if this really is a demo site."
            )
        # A superuser with a published password has no place on a production site.
        self.stdout.write("Seeding the demo course:")
        try:
            report = demo_seed(with_admin=not allow_production, say=self._step)
        except StorageUnreachable as exc:  # a bucket not made yet, or not answering
            raise CommandError(
                f"The assignments' files could not be stored: {exc}. Check STORAGE_URL and "
                "that its bucket exists (the site never creates it). Nothing was seeded."
            ) from exc
        course = report.course
        if report.created:
            self.stdout.write(f"Created {len(report.created)} objects for {course.code}.")
        else:
            self.stdout.write(
                f"The demo course {course.code} is already complete; nothing changed."
            )
        self.stdout.write(
            f"\nDemo logins for '{course.title}' (password for all: {DEMO_PASSWORD}):"
        )
        staff = [(u, r) for u, r in report.logins if r != "Student"]
        students = [u for u, r in report.logins if r == "Student"]
        for username, role in staff:
            self.stdout.write(f"  {username:<12} {role}")
        self.stdout.write(f"  {students[0]} … {students[-1]}  Students ({len(students)})")

    def _step(self, line: str) -> None:
        self.stdout.write(f"  {line} …")
        self.stdout.flush()
