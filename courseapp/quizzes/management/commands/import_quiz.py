"""``manage.py import_quiz --course CODE FILE.yaml``: create a quiz from its YAML file (see
``courseapp.quizzes.authoring``), or replace one of the same slug that no student has started."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from courseapp.courses.models import Course
from courseapp.quizzes.authoring import quiz_import
from courseapp.quizzes.quiz_file import MAX_YAML_BYTES


class Command(BaseCommand):
    help = "Create a quiz from a YAML file."

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="the course's code")
        parser.add_argument("file", help="the quiz's YAML file")

    def handle(self, *args, course: str, file: str, **options):
        found = Course.objects.filter(code=course).first()
        if found is None:
            raise CommandError(f"There is no course {course!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file} is not a file.")
        if path.stat().st_size > MAX_YAML_BYTES:
            raise CommandError(f"{file} is larger than 1 MB.")
        try:
            quiz = quiz_import(course=found, text=path.read_bytes())
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        questions = quiz.questions.count()
        self.stdout.write(f"Imported {quiz.title} ({quiz.slug}): {questions} questions.")
