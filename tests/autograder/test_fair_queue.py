"""Fair queues: one student's burst does not starve the class, and "grade everything again"
yields to fresh submissions. A fresh delivery grades the fairest queued submission of its queue
(``autograder.services.queue.fair_order``), not necessarily its own; retries and redeliveries
still take back the submission they hold. Messages are simulated in the broker's order (first
sent, first delivered), each with a task id of its own; the claims run against the real
database. The last test sends real messages to a real worker."""

from __future__ import annotations

import itertools
import threading
import time
import uuid

import pytest
from django.db import connection, connections

from autograder.models import Submission, SubmissionState
from autograder.services.queue import (
    assignment_regrade,
    submission_claim,
    submission_fail,
    submission_record,
    submission_requeue,
)
from autograder.sweeper import submissions_requeue_stuck
from tests.factories import EnrollmentFactory, UserFactory

_numbers = itertools.count(1)


def queued(assignment, student) -> Submission:
    """A submission as ``submission_create`` leaves it: queued, its message sent."""
    return Submission.objects.create(assignment=assignment, student=student, number=next(_numbers))


def classmates(course, n: int) -> list:
    people = [UserFactory(username=f"classmate{i:02d}") for i in range(n)]
    for person in people:
        EnrollmentFactory(course=course, user=person, role="student")
    return people


def deliver(message: Submission) -> Submission | None:
    """A fresh delivery of ``message``'s grading message, on a worker, graded at once."""
    claimed = submission_claim(submission_pk=message.pk, token=uuid.uuid4().hex, worker="w@h")
    if claimed is not None:
        Submission.objects.filter(pk=claimed.pk).update(state=SubmissionState.GRADED)
    return claimed


def test_a_burst_waits_its_turn_behind_every_other_students_first(course, assignment, student):
    burst = [queued(assignment, student) for _ in range(30)]
    firsts = [queued(assignment, other) for other in classmates(course, 20)]

    order = [deliver(message) for message in burst + firsts]  # the broker's order: the burst's

    graded = [s.pk for s in order]
    assert sorted(graded) == sorted(s.pk for s in burst + firsts)  # each graded once
    assert graded[0] == burst[0].pk  # the burst's first came first
    second = graded.index(burst[1].pk)
    assert {s.pk for s in firsts} <= set(graded[:second])
    assert graded[21:] == [s.pk for s in burst[1:]]  # then the rest of the burst, in order


def test_a_burst_with_concurrent_workers_still_lets_the_others_go_first(
    course, assignment, student
):
    """Two claims in flight at a time: the burst's first two run, everyone else's first next."""
    burst = [queued(assignment, student) for _ in range(10)]
    firsts = [queued(assignment, other) for other in classmates(course, 5)]
    messages = iter(burst + firsts)

    running = [submission_claim(submission_pk=next(messages).pk, token=f"t{i}") for i in (0, 1)]
    order = [s.pk for s in running]
    for i, message in enumerate(messages, start=2):
        finished = running.pop(0)
        Submission.objects.filter(pk=finished.pk).update(state=SubmissionState.GRADED)
        running.append(submission_claim(submission_pk=message.pk, token=f"t{i}"))
        order.append(running[-1].pk)

    assert order[:2] == [burst[0].pk, firsts[0].pk]  # the burst's first, then the fairest
    assert set(order[:6]) == {burst[0].pk, *(s.pk for s in firsts)}


def test_gradings_finished_before_a_submission_was_queued_do_not_count_against_it(
    assignment, student, other_student
):
    import datetime

    from django.utils import timezone

    for _ in range(5):  # last week's
        queued(assignment, student)
    long_ago = timezone.now() - datetime.timedelta(days=7)
    Submission.objects.update(state=SubmissionState.GRADED, state_changed_at=long_ago)
    mine = queued(assignment, student)
    theirs = queued(assignment, other_student)
    spare = Submission.objects.filter(state=SubmissionState.GRADED).first()

    first = submission_claim(submission_pk=spare.pk, token="spare")  # its own long graded

    assert first.pk == mine.pk  # equal turns: first come, first served
    assert Submission.objects.get(pk=theirs.pk).state == SubmissionState.QUEUED


def test_a_regrade_batch_yields_to_fresh_submissions(course, assignment, student, other_student):
    earlier = [queued(assignment, s) for s in (student, other_student)]
    Submission.objects.update(state=SubmissionState.GRADED)
    with_the_batch = assignment_regrade(assignment=assignment)
    fresh = queued(assignment, classmates(course, 1)[0])

    first = deliver(earlier[0])  # a batch message comes first from the broker

    assert with_the_batch == 2
    assert first.pk == fresh.pk
    assert Submission.objects.filter(batch=True).count() == 2
    assert {deliver(earlier[1]).pk, deliver(fresh).pk} == {s.pk for s in earlier}


def test_a_single_requeue_and_a_fresh_submission_are_not_a_batch(assignment, student):
    submission = queued(assignment, student)
    Submission.objects.update(state=SubmissionState.GRADED, batch=True)

    submission_requeue(submission=submission)

    assert Submission.objects.get(pk=submission.pk).batch is False
    assert queued(assignment, student).batch is False


def test_a_delivery_prefers_its_own_submission_only_among_equals(
    assignment, student, other_student
):
    mine_first = queued(assignment, student)
    theirs = queued(assignment, other_student)
    my_second = queued(assignment, student)

    among_equals = submission_claim(submission_pk=theirs.pk, token="t1")
    not_before_a_fairer_one = submission_claim(submission_pk=my_second.pk, token="t2")

    assert among_equals.pk == theirs.pk  # not mine_first, queued earlier with the same turn
    assert not_before_a_fairer_one.pk == mine_first.pk  # student's own second waits its turn


def test_it_grades_nothing_of_another_queue(assignment, student, other_student):
    from autograder.services.assignments import assignment_import
    from tests.autograder.nbfactory import source_bytes

    gpu = assignment_import(
        course=assignment.course, slug="gpu", files={"a1.ipynb": source_bytes()}
    )
    type(gpu).objects.filter(pk=gpu.pk).update(wants_gpu=True)
    on_gpu = queued(gpu, student)
    on_cpu = queued(assignment, other_student)

    assert submission_claim(submission_pk=on_cpu.pk, token="cpu-1").pk == on_cpu.pk
    assert submission_claim(submission_pk=on_cpu.pk, token="cpu-2") is None
    assert submission_claim(submission_pk=on_gpu.pk, token="gpu-1").pk == on_gpu.pk


def test_a_retry_takes_back_the_submission_it_held_not_the_fairest(
    assignment, student, other_student
):
    mine = queued(assignment, student)
    held = submission_claim(submission_pk=mine.pk, token="t1")
    submission_fail(submission=held, error="SandboxDidNotStart", retry=True, token="t1")
    fairer = queued(assignment, other_student)  # fresh, nothing of theirs in flight

    retried = submission_claim(submission_pk=mine.pk, token="t1", retry=True)

    assert retried.pk == mine.pk
    assert (retried.state, retried.attempts) == ("running", 2)
    assert Submission.objects.get(pk=fairer.pk).state == SubmissionState.QUEUED


def test_a_redelivery_takes_back_the_submission_it_stole(assignment, student, other_student):
    """The message of ``theirs`` graded ``mine`` and its worker died: delivered again (same task
    id), it takes back ``mine``, not its own."""
    mine = queued(assignment, student)
    theirs = queued(assignment, other_student)
    assert submission_claim(submission_pk=theirs.pk, token="t1").pk == theirs.pk  # own, equal
    stolen = submission_claim(submission_pk=theirs.pk, token="t2")
    assert stolen.pk == mine.pk

    again = submission_claim(submission_pk=theirs.pk, token="t2")

    assert (again.pk, again.attempts) == (mine.pk, 2)


def test_a_stolen_claim_records_only_for_its_token(assignment, student, other_student):
    mine = queued(assignment, student)
    theirs = queued(assignment, other_student)
    claimed = submission_claim(submission_pk=theirs.pk, token="t1")

    assert submission_record(submission=claimed, grade=None, started_at=None, token="t2") is None
    assert claimed.pk in (mine.pk, theirs.pk)


def test_the_sweeper_still_sends_a_lost_message_again(
    assignment, student, django_capture_on_commit_callbacks
):
    import datetime

    from django.utils import timezone

    submission = queued(assignment, student)
    long_ago = timezone.now() - datetime.timedelta(hours=3)
    Submission.objects.filter(pk=submission.pk).update(sent_at=long_ago)

    with django_capture_on_commit_callbacks() as callbacks:
        assert submissions_requeue_stuck() == 1
    assert len(callbacks) == 1  # the fresh message, sent after commit
    assert deliver(submission).pk == submission.pk


def test_a_claim_takes_a_few_queries_however_long_the_queue(
    course, assignment, student, django_assert_max_num_queries
):
    burst = [queued(assignment, student) for _ in range(30)]
    for other in classmates(course, 20):
        queued(assignment, other)

    claims = []
    for i in range(3):
        with django_assert_max_num_queries(4):  # held claim?, fair order, claim, read it
            claims.append(submission_claim(submission_pk=burst[i].pk, token=f"t{i}"))

    assert all(claims) and len({s.pk for s in claims}) == 3


def test_two_concurrent_claimers_never_take_the_same_submission(
    transactional_db, course, assignment, student
):
    """Threads, each with its own connection (on PostgreSQL they truly overlap; SQLite's writes
    take turns): 40 deliveries for 30 submissions, each submission claimed exactly once."""
    people = classmates(course, 5)
    submissions = [queued(assignment, people[i % 5]) for i in range(30)]
    claimed: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            start.wait(timeout=60)
            for i in range(5):
                message = submissions[(n * 5 + i) % 30]
                got = submission_claim(submission_pk=message.pk, token=f"w{n}-{i}")
                if got is not None:
                    with lock:
                        claimed.append(got.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert not any(thread.is_alive() for thread in threads)
    assert sorted(claimed) == sorted(s.pk for s in submissions)  # each once, none twice
    tokens = Submission.objects.values_list("claimed_by", flat=True)
    assert len(set(tokens)) == 30 and connection.vendor in ("sqlite", "postgresql")


SPEC = (
    b'files = ["double.py"]\nharness = "test_double.py"\n[[tests]]\nname = "doubles"\npoints = 1\n'
)
HARNESS = b"from double import double\n\ndef doubles():\n    assert double(2) == 4\n"


@pytest.mark.slow
def test_a_real_worker_grades_everyone_elses_first_before_the_bursts_second(
    transactional_db, tmp_path, course, assignment, student
):
    """End to end on the real broker: one worker process, the burst's messages sent first."""
    from django.db import transaction

    from autograder.services.assignments import assignment_import
    from autograder.services.intake import submission_create
    from tests.autograder.test_celery_worker import start_worker, stop_worker
    from tests.autograder.test_worker_grades_a_submission import database_url

    quick = assignment_import(
        course=course, slug="quick", files={"autograder.toml": SPEC, "test_double.py": HARNESS}
    )
    answer = {"double.py": b"def double(x):\n    return 2 * x\n"}
    others = classmates(course, 3)
    log = tmp_path / "worker.log"
    worker = start_worker(["default"], log, DATABASE_URL=database_url())
    try:
        with transaction.atomic():  # sent after the commit, in this order: the burst's first
            burst = [submission_create(assignment=quick, student=student, files=answer)]
            burst += [submission_create(assignment=quick, student=student, files=answer)]
            burst += [submission_create(assignment=quick, student=student, files=answer)]
            firsts = [submission_create(assignment=quick, student=s, files=answer) for s in others]
        everything = Submission.objects.filter(pk__in=[s.pk for s in burst + firsts])
        deadline = time.monotonic() + 300
        while everything.exclude(state=SubmissionState.GRADED).exists():
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        stop_worker(worker)

    started = {s.pk: s.runs.get().started_at for s in everything.prefetch_related("runs")}
    order = sorted(started, key=started.get)
    assert order == [burst[0].pk, *(s.pk for s in firsts), burst[1].pk, burst[2].pk]
