"""Attacks on the fair queue: ways it could give a wrong grade, grade a submission twice or on
the wrong kind of worker, or leave one queued forever. Each test is one attack that once worked."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from autograder.grades import Grade
from autograder.grades import TestResult as Result
from autograder.models import Submission
from autograder.services import queue
from grading.models import Score


def _grade(points: int) -> Grade:
    return Grade(tests=[Result("t", Decimal(points), Decimal(3), "partial", "")])


def _others_waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one snapshot per transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_newest_score_when_two_gradings_of_one_student_record_at_once(
    assignment, student, monkeypatch
):
    """Two workers grade one student's #1 and #2 together (a burst, two workers). #1 records
    first and finds itself the newest graded (#2 still running); before it writes the gradebook,
    #2 records and commits. #1 must not then write its older score over #2's."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes its write lock at BEGIN: two records never overlap")
    first = Submission.objects.create(assignment=assignment, student=student, number=1)
    second = Submission.objects.create(assignment=assignment, student=student, number=2)
    assert queue.submission_claim(submission_pk=first.pk, token="t1").pk == first.pk
    assert queue.submission_claim(submission_pk=second.pk, token="t2").pk == second.pk
    first_checked, second_done = threading.Event(), threading.Event()
    real = queue.submission_score_to_gradebook

    def to_gradebook(*, submission, **kwargs):
        if submission.pk == first.pk:
            first_checked.set()
            deadline = time.monotonic() + 60
            # #2 records meanwhile, unless it waits for #1's locks (then #1 goes on).
            while not second_done.is_set() and time.monotonic() < deadline:
                if _others_waiting_on_a_lock():
                    break
                time.sleep(0.05)
        real(submission=submission, **kwargs)

    monkeypatch.setattr(queue, "submission_score_to_gradebook", to_gradebook)
    errors: list[BaseException] = []

    def record(submission, points, token, after=None):
        try:
            if after is not None:
                assert after.wait(60)
            claimed = Submission.objects.get(pk=submission.pk)
            queue.submission_record(
                submission=claimed, grade=_grade(points), started_at=timezone.now(), token=token
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            if submission.pk == second.pk:
                second_done.set()
            connection.close()

    threads = [
        threading.Thread(target=record, args=(first, 1, "t1")),
        threading.Thread(target=record, args=(second, 2, "t2", first_checked)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert set(Submission.objects.values_list("state", flat=True)) == {"graded"}
    score = Score.objects.get(item=assignment.item, student=student)
    assert score.raw_points == (Decimal(2) / 3 * assignment.item.max_points).quantize(
        Decimal("0.001")
    )


@pytest.mark.django_db
def test_it_leaves_a_gpu_submission_to_the_gpu_queue_when_staff_moved_it_there_while_queued(
    assignment, student
):
    """The message went to ``default`` while the assignment was a CPU one; staff then set
    ``wants_gpu``. A CPU worker that receives that message must not grade the now-GPU submission
    (nor any other GPU one): a fresh delivery claims from the queue it came from."""
    from autograder.tasks import grade_submission_task

    waiting = Submission.objects.create(assignment=assignment, student=student, number=1)
    type(assignment).objects.filter(pk=assignment.pk).update(wants_gpu=True)

    outcome = grade_submission_task.apply(
        kwargs={"submission_pk": waiting.pk}, task_id="sent-to-default", routing_key="default"
    ).get()

    assert outcome == "already taken"
    waiting.refresh_from_db()
    assert (waiting.state, waiting.claimed_by, waiting.attempts) == ("queued", "", 0)


@pytest.mark.slow
@pytest.mark.django_db
def test_a_database_fault_during_the_claim_is_tried_again_and_grades_the_submission(
    assignment, student, monkeypatch
):
    """The database drops the connection while a delivery claims (a failover, a restart): the
    task is retried, as any infrastructure fault. That retry held no claim, so it used to do
    nothing ("already taken"), and the submission waited for the sweeper's lost-message limit
    (2 x its run time + 2 min) with no message left to grade it."""
    from django.db import OperationalError

    from autograder import tasks
    from autograder.services.intake import submission_create
    from tests.autograder.nbfactory import student_notebook

    waiting = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    real, calls = tasks.submission_claim, []

    def claim_after_a_dropped_connection(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(tasks, "submission_claim", claim_after_a_dropped_connection)

    outcome = tasks.grade_submission_task.apply(
        kwargs={"submission_pk": waiting.pk}, task_id="dropped"
    ).get()

    assert outcome == "graded"
    waiting.refresh_from_db()
    assert (waiting.state, waiting.claimed_by) == ("graded", "dropped")


@pytest.mark.django_db
def test_it_keeps_the_newest_score_when_the_older_submission_finishes_last(assignment, student):
    """``test_the_gradebook_keeps_the_newest_submission_whatever_finishes_last`` no longer grades
    out of order: with fair queues the message sent for #2 claims #1 first. Here #2 records first
    for real, then #1."""
    first = Submission.objects.create(assignment=assignment, student=student, number=1)
    second = Submission.objects.create(assignment=assignment, student=student, number=2)
    assert queue.submission_claim(submission_pk=second.pk, token="t1").pk == first.pk
    assert queue.submission_claim(submission_pk=second.pk, token="t2").pk == second.pk

    for submission, points, token in ((second, 2, "t2"), (first, 1, "t1")):
        claimed = Submission.objects.get(pk=submission.pk)
        assert queue.submission_record(
            submission=claimed, grade=_grade(points), started_at=timezone.now(), token=token
        )

    score = Score.objects.get(item=assignment.item, student=student)
    assert score.raw_points == Decimal(2)  # #2's 2 of 3, on an item of 3 points


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_newest_score_when_a_hand_grade_of_an_older_one_lands_meanwhile(
    assignment, student, ta, monkeypatch
):
    """A TA hand-grades #1 (then the newest graded) while #2 records. The hand grade found #1 the
    newest before #2 committed; it must not then write #1's total over #2's score."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes its write lock at BEGIN: two writers never overlap")
    from autograder.services import hand_grades

    first = Submission.objects.create(assignment=assignment, student=student, number=1)
    second = Submission.objects.create(assignment=assignment, student=student, number=2)
    queue.submission_claim(submission_pk=first.pk, token="t1")
    written = Grade(
        tests=[
            Result("auto", Decimal(0), Decimal(1), "failed", ""),
            Result("essay", None, Decimal(2), "manual", ""),
        ]
    )
    queue.submission_record(
        submission=Submission.objects.get(pk=first.pk),
        grade=written,
        started_at=timezone.now(),
        token="t1",
    )
    assert queue.submission_claim(submission_pk=second.pk, token="t2").pk == second.pk
    first_checked, second_done = threading.Event(), threading.Event()
    real = hand_grades.submission_score_to_gradebook

    def to_gradebook(**kwargs):
        first_checked.set()
        deadline = time.monotonic() + 60
        while not second_done.is_set() and time.monotonic() < deadline:
            if _others_waiting_on_a_lock():
                break
            time.sleep(0.05)
        real(**kwargs)

    monkeypatch.setattr(hand_grades, "submission_score_to_gradebook", to_gradebook)
    errors: list[BaseException] = []

    def hand_grade():
        try:
            hand_grades.manual_grade_set(
                submission=Submission.objects.get(pk=first.pk), grade_id="essay", points=1, by=ta
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def record_second():
        try:
            assert first_checked.wait(60)
            queue.submission_record(
                submission=Submission.objects.get(pk=second.pk),
                grade=_grade(3),
                started_at=timezone.now(),
                token="t2",
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=hand_grade), threading.Thread(target=record_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    score = Score.objects.get(item=assignment.item, student=student)
    assert score.raw_points == Decimal(3)  # #2's 3 of 3, not #1's 1 of 3
