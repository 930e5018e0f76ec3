"""``manage.py check_strength FOLDER...``: for each assignment's source folder, the mutants of its
reference solution that no check catches (``autograder.strength``); exits 1 if any is neither
caught nor accepted in its ``autograder.toml``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from autograder import notebooks, strength
from autograder.checks.spec import CheckError


class Command(BaseCommand):
    help = "List, per reference check, the mutants of the reference solution it does not catch."

    def add_arguments(self, parser) -> None:
        parser.add_argument("folders", nargs="+", help="assignment source folders")

    def handle(self, *args, folders, **options) -> None:
        unexplained = 0
        for folder in map(Path, folders):
            if not folder.is_dir() or not any(folder.glob("*.ipynb")):
                raise CommandError(f"{folder} is not an assignment folder with a source notebook.")
            try:
                report = strength.report(folder)
            except (CheckError, notebooks.NotebookError, ValueError) as exc:
                raise CommandError(f"{folder}: {exc}") from exc
            self.stdout.write(report.text())
            unexplained += sum(map(len, report.unexplained.values())) + len(report.broken)
        if unexplained:
            raise CommandError(f"{unexplained} mutants (or broken checks) are not explained.")
