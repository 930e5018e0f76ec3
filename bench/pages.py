"""Benchmark: the server CPU of every page a student opens, on the demo course and with a
gradebook of 1,000 students x 60 items.

Seeds the demo in a scratch test database (SQLite in memory, or a test_ copy on the server that
DATABASE_URL names: never your own data), logs in as ``student01`` and opens every page reachable
from the course list by following the links of the pages themselves (GET only; not logout, admin
or the API docs). Each page is opened once to warm it, then ``--repeat`` times; its CPU is the
median of this process's CPU time (``time.process_time``: the server runs in this process, through
Django's test client, with no network) per request, and its queries are counted. Then it adds
``--students`` students and ``--items`` published items, all scored, to the demo course (student01
scored on them too) and does it again. Prints the slowest pages of each and how many exceed the
target of 50 ms of CPU.

    .venv/bin/python bench/pages.py [--students 1000] [--items 60] [--repeat 5] [--top 8]
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import re
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
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from courseapp.courses.models import Course, Enrollment, Role  # noqa: E402
from courseapp.demo.services import demo_seed  # noqa: E402
from grading.models import Score  # noqa: E402
from grading.selectors import grading_scheme_current  # noqa: E402
from grading.services.items import graded_item_create  # noqa: E402

TARGET_MS = 50
LINK = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/accounts/logout", "/admin", "/api/docs", "/api/schema", "/static", "/media")
MAX_PAGES = 300


def crawl(client: Client, start: list[str]) -> list[str]:
    """The HTML pages reachable from ``start`` by links, in the order found."""
    seen, queue, pages = set(start), list(start), []
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        pages.append(url)
        for link in LINK.findall(response.content.decode()):
            link = link.replace("&amp;", "&")
            if link not in seen and not link.startswith(SKIP):
                seen.add(link)
                queue.append(link)
    return pages


def measure(client: Client, url: str, repeat: int) -> tuple[float, int]:
    """Median CPU ms of one request, and its query count."""
    connection.queries_log.clear()  # a full log (9,000) would count every page as 0 queries
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    cpu = []
    for _ in range(repeat):
        started = time.process_time()
        client.get(url)
        cpu.append(time.process_time() - started)
    return statistics.median(cpu) * 1000, len(queries)


def enlarge(course: Course, students: int, items: int, seed: int = 7) -> None:
    """``students`` more students and ``items`` more published items in ``course``, every student
    (the demo's included) scored on each: a gradebook at the issue's size."""
    rng = random.Random(seed)
    components = [c["name"] for c in grading_scheme_current(course=course).components]
    due = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
    made = [
        graded_item_create(
            course=course,
            component=components[index % len(components)],
            name=f"Bench item {index}",
            max_points=10,
            due_at=due + datetime.timedelta(days=index),
            published=True,
        )
        for index in range(items)
    ]
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"bench-s{n:05d}", last_name=f"S{n:05d}") for n in range(students)]
    )
    Enrollment.objects.bulk_create(
        [Enrollment(course=course, user=u, role=Role.STUDENT) for u in users]
    )
    everyone = [e.user for e in Enrollment.objects.filter(course=course, role=Role.STUDENT)]
    Score.objects.bulk_create(
        [
            Score(
                item=item,
                student=user,
                source="import",
                status="missing" if rng.random() < 0.03 else "graded",
                raw_points=Decimal(rng.randint(0, 20)) / 2,
            )
            for user in everyone
            for item in made
        ],
        batch_size=5000,
    )


def report(title: str, client: Client, repeat: int, top: int) -> None:
    pages = crawl(client, ["/", "/courses/pmldl/"])
    rows = sorted(((*measure(client, url, repeat), url) for url in pages), reverse=True)
    over = [row for row in rows if row[0] >= TARGET_MS]
    print(f"\n{title}: {len(pages)} pages; slowest {min(top, len(rows))} (CPU ms, queries):")
    for cpu, queries, url in rows[:top]:
        print(f"  {cpu:7.1f} ms  {queries:3d} q  {url}")
    print(f"  pages at or over {TARGET_MS} ms of CPU: {len(over)} of {len(pages)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        course = demo_seed(with_admin=False).course
        client = Client()
        client.force_login(get_user_model().objects.get(username="student01"))
        print(f"on {connection.vendor}; student01's pages, {args.repeat} requests each")
        report("The demo course", client, args.repeat, args.top)
        started = time.perf_counter()
        enlarge(course, args.students, args.items)
        print(
            f"\nadded {args.students} students x {args.items} items in "
            f"{time.perf_counter() - started:.1f} s"
        )
        report(
            f"With {args.students} students x {args.items} more items",
            client,
            args.repeat,
            args.top,
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
