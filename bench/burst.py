"""Benchmark: one student's burst against the class's first submissions, through a real worker.

A scratch course and a quick Python assignment (one test of a one-line function that sleeps 1 s,
``--grading-seconds``, so that gradings and not the bench set the pace), 20 students
and one more who bursts, in a scratch database (SQLite in a temporary VAR_DIR, or a scratch
database ``burst_bench`` on the PostgreSQL server DATABASE_URL names, dropped after); the broker
is Redis at REDIS_URL (under this run's own key prefix) or the embedded Redis server. Each run
starts its own worker (``celery worker --pool prefork --concurrency C``, as ``throughput.py``
does), waits for its heartbeat, grades one warm-up submission (the bursting student's, so that
the burst measures waiting, not the first score row's insert), then submits through
``submission_create`` (the normal path: queued once its transaction commits) and waits until all
are graded:

- A: the 20 students submit once each;
- B: the bursting student submits 30, then the same 20 students once each;
- B under FIFO: as B, on a worker that grades each message's own submission in the broker's
  order, as before fair queues (``fifo_claims.py``, loaded with ``--include``).

A submission's wait is from its creation to its grading's start (the run's ``started_at``, set
right after the claim; both on this machine's clock). Printed: the 20 students' median and p90
wait in each run, B / A, and B under FIFO / A. Nothing is asserted about speed; a grading that
fails or scores other than 1 of 1 is printed with ``!!!`` and the exit status is 1.

    .venv/bin/python bench/burst.py [--concurrency 2] [--students 20] [--burst 30]
        [--grading-seconds 1] [--no-fifo]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from scratch import worker_environment  # noqa: E402
from throughput import stop_worker, wait_until_ready  # noqa: E402

BENCH_DB = "burst_bench"
SPEC = (
    b'files = ["double.py"]\nharness = "test_double.py"\n[[tests]]\nname = "doubles"\npoints = 1\n'
)
# The test sleeps (``--grading-seconds``) so that a grading, not storing the submissions, sets
# the pace, as with a real assignment; sleeping takes no CPU, so other load moves it little.
HARNESS = (
    "import time\nfrom double import double\n\ndef doubles():\n"
    "    time.sleep({seconds})\n    assert double(2) == 4\n"
)
ANSWER = {"double.py": b"def double(x):\n    return 2 * x\n"}


def seed(students: int, seconds: float):
    """The demo's course and grading scheme, the quick assignment (its test takes ``seconds``),
    ``students`` students and the one who bursts; returns (assignment, class, burster)."""
    from django.contrib.auth import get_user_model

    from autograder.services.assignments import assignment_import
    from courseapp.courses import services as course_services
    from courseapp.courses.models import Role
    from courseapp.demo import services as demo
    from grading.services.schemes import grading_scheme_create

    course = course_services.course_create(**demo.COURSE)
    grading_scheme_create(
        course=course, components=demo.COMPONENTS, letter_cutoffs=demo.LETTER_CUTOFFS
    )
    files = {"autograder.toml": SPEC, "test_double.py": HARNESS.format(seconds=seconds).encode()}
    assignment = assignment_import(course=course, slug="quick", files=files, title="Quick")
    people = []
    for name in [f"s{n:03d}" for n in range(students)] + ["burster"]:
        user = get_user_model().objects.create(username=name)
        course_services.enrollment_create(course=course, user=user, role=Role.STUDENT)
        people.append(user)
    return assignment, people[:-1], people[-1]


def start_worker(concurrency: int, log: Path, fifo: bool) -> tuple[subprocess.Popen, str]:
    name = f"burst-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "celery", "-A", "courseapp.config", "worker"]
    command += ["--queues", "default", "--pool", "prefork", "--concurrency", str(concurrency)]
    command += ["--hostname", f"{name}@%h", "--without-gossip", "--without-mingle"]
    command += ["--loglevel", "INFO", *(["--include", "fifo_claims"] if fifo else [])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)])}
    output = log.open("w")
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    return worker, f"{name}@"


@dataclass
class Run:
    name: str
    waits: list[float]  # the class's submissions, seconds from created to claimed
    burst_waits: list[float]
    wall: float
    submitting: float  # seconds the bench took to store all its submissions
    grading: float  # the median grading's own seconds (its run's duration)
    wrong: list[str]

    def line(self) -> str:
        burst = (
            f"; the burst's median {statistics.median(self.burst_waits):.1f} s, "
            f"last {max(self.burst_waits):.1f} s"
            if self.burst_waits
            else ""
        )
        who = f"the {len(self.waits)} students'"
        return (
            f"  {self.name:<7} {who} wait: median {median(self.waits):6.2f} s, "
            f"p90 {p90(self.waits):6.2f} s{burst}; submitted in {self.submitting:.1f} s, all "
            f"graded in {self.wall:.1f} s, one grading {self.grading:.2f} s (median)"
        )


def median(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def submit(assignment, student):
    from autograder.services.intake import submission_create

    return submission_create(assignment=assignment, student=student, files=ANSWER)


def graded(pks: list[int], worker: subprocess.Popen, log: Path, timeout: float) -> None:
    from autograder.models import Submission
    from autograder.services.queue import PENDING

    deadline = time.monotonic() + timeout
    pending = Submission.objects.filter(pk__in=pks, state__in=PENDING)
    while pending.exists():
        if worker.poll() is not None:
            raise SystemExit(f"The worker exited:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{pending.count()} not graded in time:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def waits(pks: list[int]) -> tuple[list[float], list[str]]:
    from autograder.models import Submission

    found, wrong = [], []
    for submission in Submission.objects.filter(pk__in=pks).prefetch_related("runs"):
        run = max(submission.runs.all(), key=lambda r: r.pk, default=None)
        if submission.state != "graded" or submission.score != Decimal(1) or run is None:
            error = run.error[-300:] if run is not None else ""
            wrong.append(
                f"submission {submission.pk}: {submission.state} {submission.score} {error}"
            )
            continue
        found.append((run.started_at - submission.created_at).total_seconds())
    return found, wrong


def run(name, assignment, students, burster, args, scratch, *, burst, fifo) -> Run:
    from autograder.models import GradingRun

    log = scratch / f"worker-{name.replace(' ', '-')}.log"
    worker, node = start_worker(args.concurrency, log, fifo)
    try:
        wait_until_ready(worker, node, log, timeout=300)
        warm = submit(assignment, burster)
        graded([warm.pk], worker, log, timeout=300)
        started = time.monotonic()
        burst_pks = [submit(assignment, burster).pk for _ in range(burst)]
        class_pks = [submit(assignment, student).pk for student in students]
        submitting = time.monotonic() - started
        # Generous: a quick grading takes well under 10 s even on a loaded 2-core machine.
        graded(burst_pks + class_pks, worker, log, timeout=300 + 30 * (burst + len(students)))
        wall = time.monotonic() - started
    finally:
        stop_worker(worker)
    class_waits, wrong = waits(class_pks)
    burst_waits, burst_wrong = waits(burst_pks)
    grading = statistics.median(
        GradingRun.objects.filter(submission__in=burst_pks + class_pks, error="").values_list(
            "duration_seconds", flat=True
        )
    )
    return Run(name, class_waits, burst_waits, wall, submitting, grading, wrong + burst_wrong)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--grading-seconds", type=float, default=1.0, help="the test's sleep")
    parser.add_argument("--no-fifo", action="store_true", help="skip the run under plain FIFO")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-burst-"))
    drop = worker_environment(scratch, BENCH_DB)
    try:
        runs = bench(args, scratch)
    finally:
        from django.db import connections

        connections.close_all()
        drop()
        shutil.rmtree(scratch, ignore_errors=True)
    if any(r.wrong for r in runs):
        sys.exit("!!! Some submissions were not graded 1 of 1 (above).")


def bench(args, scratch: Path) -> list[Run]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from autograder.sandbox import isolation_level
    from courseapp.config import embedded_redis

    call_command("migrate", verbosity=0)
    assignment, students, burster = seed(args.students, args.grading_seconds)
    broker = (
        contextlib.nullcontext() if settings.REDIS_URL else embedded_redis.serving(settings.VAR_DIR)
    )
    plan = [("A", 0, False), ("B fair", args.burst, False)]
    if not args.no_fifo:
        plan.append(("B FIFO", args.burst, True))
    runs = []
    with broker:
        for name, burst, fifo in plan:
            who = (assignment, students, burster)
            runs.append(run(name, *who, args, scratch, burst=burst, fifo=fifo))
    print(
        f"{args.students} students x 1 submission, with and without one student's burst of "
        f"{args.burst} sent first; one worker, prefork x{args.concurrency}, "
        f"{isolation_level()} sandbox, {connection.vendor} database; wait = submitted -> claimed:"
    )
    for r in runs:
        print(r.line())
        for line in r.wrong[:10]:
            print(f"  !!! {line}")
    a = runs[0]
    for b in runs[1:]:
        print(
            f"  {b.name} / A: median {median(b.waits) / median(a.waits):.2f} x, "
            f"p90 {p90(b.waits) / p90(a.waits):.2f} x"
        )
    return runs


if __name__ == "__main__":
    main()
