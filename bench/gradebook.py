"""Benchmark: the whole gradebook of 1,000 students x 60 items, computed and exported.

Builds the data in a scratch test database (SQLite in memory, or a test_ copy on the server that
DATABASE_URL names: never your own data), then prints, for the full class and for a class of 100:
the SQL queries and the median wall time of ``gradebook_for_course`` + the CSV export. The
baseline, measured in the same run, is the same breakdowns loaded one student at a time (what a
page per student would do); the ratio says how much one pass saves. The query count must be the
same at 100 and at 1,000 students.

    .venv/bin/python bench/gradebook.py [--students 1000] [--items 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.test_settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from courseapp.courses.models import Course, Enrollment, Role  # noqa: E402
from courseapp.courses.selectors import student_enrollments  # noqa: E402
from grading import exports, selectors  # noqa: E402
from grading.models import Extension, Score  # noqa: E402
from grading.services.items import graded_item_create  # noqa: E402
from grading.services.schemes import grading_scheme_create  # noqa: E402

COMPONENTS = [
    ("Quizzes", 10, 2),
    ("Assignments", 30, 0),
    ("Midterm", 20, 0),
    ("Final project", 30, 0),
    ("Final exam", 20, 0),
]
CUTOFFS = [("A", 90), ("B", 76), ("C", 60), ("D", 0)]
DUE = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)


def build(code: str, students: int, items: int, seed: int = 7) -> Course:
    """A course with ``students`` x ``items`` scores: some late, some excused, some missing."""
    rng = random.Random(seed)
    course = Course.objects.create(code=code, title=code, term="Bench")
    grading_scheme_create(
        course=course,
        components=[{"name": n, "points": p, "drop_lowest": d} for n, p, d in COMPONENTS],
        letter_cutoffs=[{"letter": letter, "min_points": m} for letter, m in CUTOFFS],
    )
    made = []
    for index in range(items):
        component = COMPONENTS[index % len(COMPONENTS)][0]
        made.append(
            graded_item_create(
                course=course,
                component=component,
                name=f"Item {index}",
                max_points=10,
                due_at=DUE + datetime.timedelta(days=index),
                published=True,
            )
        )
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"{code}-s{n:05d}", last_name=f"S{n:05d}") for n in range(students)]
    )
    Enrollment.objects.bulk_create(
        [Enrollment(course=course, user=u, role=Role.STUDENT) for u in users]
    )
    rows, extensions = [], []
    for user in users:
        for item in made:
            roll = rng.random()
            late = DUE + datetime.timedelta(days=items, hours=rng.randint(-48, 60))
            rows.append(
                Score(
                    item=item,
                    student=user,
                    source="import",
                    status="excused" if roll < 0.02 else "missing" if roll < 0.05 else "graded",
                    raw_points=Decimal(rng.randint(0, 20)) / 2,
                    submitted_at=late if roll > 0.9 else None,
                )
            )
        if rng.random() < 0.1:
            extensions.append(
                Extension(item=made[0], student=user, due_at=DUE + datetime.timedelta(days=3))
            )
    Score.objects.bulk_create(rows, batch_size=5000)
    Extension.objects.bulk_create(extensions)
    return course


def ours(course: Course) -> int:
    book = selectors.gradebook_for_course(course=course)
    return len(exports.gradebook_csv(book))


def one_student_at_a_time(course: Course) -> int:
    size = 0
    for enrollment in student_enrollments(course=course):
        book = selectors.gradebook_for_course(course=course, students=[enrollment.user])
        size += len(exports.gradebook_csv(book))
    return size


def measure(function, course: Course, repeat: int) -> tuple[float, int, float]:
    """Median wall seconds, the query count, and median CPU seconds (this process: on a shared
    machine, the figure that does not move with the load)."""
    with CaptureQueriesContext(connection) as queries:
        function(course)
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        function(course)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), len(queries), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        big = build("bench-big", args.students, args.items)
        small = build("bench-small", 100, args.items)
        fewer = build("bench-fewer-items", 100, max(args.items // 4, 5))
        print(
            f"built {args.students} + 100 + 100 students x {args.items} items "
            f"in {time.perf_counter() - started:.1f} s on {connection.vendor}"
        )
        big_time, big_queries, big_cpu = measure(ours, big, args.repeat)
        small_time, small_queries, small_cpu = measure(ours, small, args.repeat)
        _, fewer_queries, _ = measure(ours, fewer, 1)
        base_time, base_queries, _ = measure(one_student_at_a_time, big, 1)
        print(
            f"ours, {args.students} students: {big_time * 1000:.0f} ms wall, "
            f"{big_cpu * 1000:.0f} ms CPU, {big_queries} queries (target: < 500 ms)"
        )
        print(
            f"ours, 100 students:  {small_time * 1000:.0f} ms wall, {small_cpu * 1000:.0f} ms CPU, "
            f"{small_queries} queries"
        )
        print(
            f"baseline (one student at a time), {args.students} students: "
            f"{base_time * 1000:.0f} ms, {base_queries} queries"
        )
        print(
            f"ratio baseline/ours: {base_time / big_time:.1f}x time, "
            f"{base_queries / big_queries:.0f}x queries"
        )
        print(f"ours, 100 students x {max(args.items // 4, 5)} items: {fewer_queries} queries")
        constant = big_queries == small_queries == fewer_queries
        verdict = "constant" if constant else "GROWS with the class or the items"
        print(f"query count across class sizes and item counts: {verdict}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
