"""Benchmark: A1 submissions through a real Celery worker, as a class's deadline sends them.

A scratch course (the demo's course, grading scheme and A1 as shipped, one student per
submission) in a scratch database: a SQLite file in a temporary VAR_DIR, or, when DATABASE_URL
names a PostgreSQL server, a scratch database ``throughput_bench`` created there and dropped after.
The broker is Redis at REDIS_URL when it is set (under a key prefix of this run's own), else the
project's embedded Redis server on the scratch VAR_DIR's socket (``config.embedded_redis``, as
`make run` and the tests start it). One worker, ``celery -A courseapp.config worker --pool
prefork --concurrency C`` (C = the cores by default), is started and waited for (its heartbeat);
then every submission goes in through the service layer (``submission_create``, which queues it
when its transaction commits, the normal path), and the bench waits until all are graded.

It prints the total wall time; submissions per second sustained (from the first grading finished
to the last, so the worker's warm-up is left out) and overall (from the first submission); the
CPU per submission (the worker's main process, its pool processes, the sandboxes and any helper
they start, from /proc before and after: ``bench/processes.py``); the peak RSS of each warm
worker process and of one grading (the largest sandbox process, sampled from /proc: a grading run
does not store the sandbox's ``max_rss_bytes``); and whether every score is A1's expected one
(the reference solution: 9 of 10 points, the written answer waits for a TA). A wrong score or a
failed grading is printed loudly and the exit status is 1.

    .venv/bin/python bench/throughput.py [--submissions 40] [--concurrency N] [--scale]

``--scale`` runs the batch with 1 then 2 worker processes (a fresh worker each) and prints how
the rate scales.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from processes import mib, status_bytes, tree_seconds  # noqa: E402
from scratch import worker_environment  # noqa: E402

BENCH_DB = "throughput_bench"
# The reference solution passes every check: 9 points; the written answer (1) waits for a TA.
EXPECTED_SCORE = Decimal(9)
A1 = ROOT / "courseapp" / "demo" / "assignments" / "a1"


def seed(students: int):
    """The demo's course and grading scheme, ``students`` students, and A1 imported from its
    shipped folder (as ``seed_demo`` does); returns (assignment, students)."""
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
    slug, title, _ = demo.AUTOGRADED["a1"]
    files = {f.name: f.read_bytes() for f in sorted(A1.iterdir()) if f.is_file()}
    assignment = assignment_import(course=course, slug=slug, files=files, title=title)
    User = get_user_model()
    people = []
    for number in range(students):
        user = User.objects.create(username=f"bench{number:03d}", last_name=f"S{number:03d}")
        course_services.enrollment_create(course=course, user=user, role=Role.STUDENT)
        people.append(user)
    return assignment, people


# The worker


def start_worker(concurrency: int, log: Path) -> tuple[subprocess.Popen, str]:
    """The worker as the Procfile starts it, with the pool asked for; returns it and its node
    name's prefix (``name@``: Celery adds the host name)."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "courseapp.config",
        "worker",
        "--queues",
        "default,gpu",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--hostname",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
    ]
    output = log.open("w")
    worker = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    return worker, f"{name}@"


def wait_until_ready(worker: subprocess.Popen, node: str, log: Path, timeout: float) -> None:
    """Its heartbeat (written when it is ready to take tasks) is in the database."""
    from autograder.models import WorkerHeartbeat

    deadline = time.monotonic() + timeout
    ready = WorkerHeartbeat.objects.filter(hostname__startswith=node, stopped_at=None)
    while not ready.exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"The worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def stop_worker(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@dataclass
class Memory:
    """The worker's processes, sampled from /proc while the batch runs: each one's peak RSS
    (``VmHWM``) as last seen, and which were still alive at the end (the warm ones: the main
    process, the pool, any long-lived helper); the others came and went with gradings."""

    root: int
    peaks: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    alive_at_end: set[int] = field(default_factory=set)

    def sample(self) -> None:
        try:
            found = [psutil.Process(self.root), *psutil.Process(self.root).children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for process in found:
            peak = status_bytes(process.pid, "VmHWM")
            if peak > self.peaks.get(process.pid, 0):
                self.peaks[process.pid] = peak
                with contextlib.suppress(psutil.Error):  # what it runs now: it may have exec'd
                    self.names[process.pid] = " ".join(process.cmdline()[:4])[:80]

    def finish(self) -> None:
        self.sample()
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(self.root).children(recursive=True)
            self.alive_at_end = {self.root, *(p.pid for p in children)}

    @property
    def transient(self) -> list[int]:
        return [pid for pid in self.peaks if pid not in self.alive_at_end]


def sampling(memory: Memory, stop: threading.Event) -> threading.Thread:
    def loop() -> None:
        while not stop.wait(0.2):
            memory.sample()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


# One batch


@dataclass
class Batch:
    concurrency: int
    submitted_at: float  # time.time() before the first submission
    finished: list[float]  # each grading's finish, time.time()
    durations: list[float]  # each grading's own seconds (GradingRun.duration_seconds)
    cpu_seconds: float  # the worker's, all its processes, across the batch
    memory: Memory
    wrong: list[str]  # what was not graded with the expected score

    @property
    def count(self) -> int:
        return len(self.finished)

    @property
    def wall(self) -> float:
        return max(self.finished) - self.submitted_at

    @property
    def sustained(self) -> float:
        """Per second, from the first grading finished to the last (warm-up left out)."""
        span = max(self.finished) - min(self.finished)
        return (self.count - 1) / span if span > 0 else float("nan")

    @property
    def overall(self) -> float:
        return self.count / self.wall


def run_batch(assignment, students, count: int, concurrency: int, scratch: Path) -> Batch:
    from autograder.models import GradingRun, Submission
    from autograder.services.intake import submission_create
    from autograder.services.queue import PENDING

    source = (A1 / "a1.ipynb").read_bytes()
    log = scratch / f"worker-{concurrency}.log"
    worker, node = start_worker(concurrency, log)
    stop = threading.Event()
    try:
        wait_until_ready(worker, node, log, timeout=300)
        memory = Memory(worker.pid)
        sampler = sampling(memory, stop)
        cpu_before = tree_seconds(worker.pid)
        submitted_at = time.time()
        pks = [
            submission_create(
                assignment=assignment,
                student=students[number % len(students)],
                files={"a1.ipynb": source},
            ).pk
            for number in range(count)
        ]
        # Generous: a cold grading takes ~15-40 s on a loaded 2-core machine.
        deadline = time.monotonic() + 300 + 120 * count / concurrency
        pending = Submission.objects.filter(pk__in=pks, state__in=PENDING)
        while pending.exists():
            if worker.poll() is not None:
                raise SystemExit(f"The worker exited:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"{pending.count()} of {count} not graded in time; worker log:\n"
                    f"{log.read_text()[-3000:]}"
                )
            time.sleep(0.25)
        cpu_after = tree_seconds(worker.pid)
        memory.finish()
        stop.set()
        sampler.join()
    finally:
        stop.set()
        stop_worker(worker)
    finished, durations, wrong = [], [], []
    for submission in Submission.objects.filter(pk__in=pks).order_by("pk"):
        run = submission.runs.order_by("-pk").first() or GradingRun()
        if run.finished_at is not None:
            finished.append(run.finished_at.timestamp())
        if run.duration_seconds is not None:
            durations.append(run.duration_seconds)
        if submission.state != "graded" or submission.score != EXPECTED_SCORE:
            wrong.append(
                f"submission {submission.pk}: {submission.state}, score {submission.score}"
                f"{', ' + run.error[-300:] if run.error else ''}"
            )
    return Batch(
        concurrency=concurrency,
        submitted_at=submitted_at,
        finished=finished,
        durations=durations,
        cpu_seconds=cpu_after - cpu_before,
        memory=memory,
        wrong=wrong,
    )


def report(batch: Batch, count: int) -> None:
    from django.db import connection

    from autograder.sandbox import isolation_level

    memory = batch.memory
    print(
        f"{count} A1 submissions, one worker, prefork x{batch.concurrency}, "
        f"{isolation_level()} sandbox, {connection.vendor} database:"
    )
    print(f"  total wall, first submission to last grading: {batch.wall:.1f} s")
    print(f"  sustained (first grading finished to last): {batch.sustained:.3f} submissions/s")
    print(f"  overall (warm-up included): {batch.overall:.3f} submissions/s")
    if batch.durations:
        median = statistics.median(batch.durations)
        print(f"  one grading (its run's duration), median: {median:.2f} s")
    print(
        f"  CPU per submission: {batch.cpu_seconds / count:.2f} s (the worker's processes and "
        "their sandboxes, from /proc; the broker, the database and this process not counted)"
    )
    for pid in sorted(memory.alive_at_end):
        role = "main" if pid == memory.root else "child"
        print(
            f"  warm worker process {pid} ({role}, {memory.names.get(pid, '?')}): "
            f"peak RSS {mib(memory.peaks.get(pid, 0))}"
        )
    transient = memory.transient
    if transient:
        biggest = max(transient, key=memory.peaks.__getitem__)
        print(
            f"  one grading: peak RSS {mib(memory.peaks[biggest])} (its largest process, "
            f"{memory.names.get(biggest, '?')}; {len(transient)} short-lived processes seen, "
            "sampled every 0.2 s)"
        )
    if batch.wrong:
        print(f"  !!! {len(batch.wrong)} of {count} NOT graded {EXPECTED_SCORE}:")
        for line in batch.wrong[:20]:
            print(f"  !!!   {line}")
    else:
        print(f"  every score is {EXPECTED_SCORE}, as expected")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument(
        "--concurrency", type=int, default=len(os.sched_getaffinity(0)), help="default: cores"
    )
    parser.add_argument("--scale", action="store_true", help="1 then 2 worker processes")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    drop = worker_environment(scratch, BENCH_DB)
    try:
        batches = run(args, scratch)
    finally:
        from django.db import connections

        connections.close_all()
        drop()
        shutil.rmtree(scratch, ignore_errors=True)
    if args.scale and len(batches) == 2:
        one, two = batches
        print(
            f"scaling from 1 to 2 worker processes: sustained {one.sustained:.3f} -> "
            f"{two.sustained:.3f} submissions/s ({two.sustained / one.sustained:.2f} x), "
            f"CPU per submission {one.cpu_seconds / args.submissions:.2f} -> "
            f"{two.cpu_seconds / args.submissions:.2f} s"
        )
    if any(batch.wrong for batch in batches):
        sys.exit("!!! Some A1 submissions were not graded with the expected score (above).")


def run(args, scratch: Path) -> list[Batch]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from courseapp.config import embedded_redis

    call_command("migrate", verbosity=0)
    assignment, students = seed(args.submissions)
    broker = (
        contextlib.nullcontext() if settings.REDIS_URL else embedded_redis.serving(settings.VAR_DIR)
    )
    batches = []
    with broker:
        for concurrency in [1, 2] if args.scale else [args.concurrency]:
            batch = run_batch(assignment, students, args.submissions, concurrency, scratch)
            report(batch, args.submissions)
            batches.append(batch)
    return batches


if __name__ == "__main__":
    main()
