"""Two writers that both find no score row (two workers grading one student's submissions at
once) race to insert it: both changes land, in order, with their history; none fails on the
unique constraint (a failed grading for staff where nothing was wrong)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from grading.models import Score, ScoreHistory
from grading.services import scores

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_first_scores_at_once_both_land(assignment, student, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no two transactions find the row missing")
    both_looked = threading.Barrier(2, timeout=60)
    real = scores._locked

    def locked_after_both_looked(item, student):
        score = real(item, student)
        if score.pk is None:  # the first look, in both threads: then both insert
            both_looked.wait()
        return score

    monkeypatch.setattr(scores, "_locked", locked_after_both_looked)
    errors: list[BaseException] = []

    def grade(points: int) -> None:
        try:
            scores.score_set(
                item=assignment, student=student, points=points, by=None, source="autograder"
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=grade, args=(p,)) for p in (6, 8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    score = Score.objects.get(item=assignment, student=student)
    assert score.raw_points in (Decimal(6), Decimal(8))
    history = list(ScoreHistory.objects.filter(score=score).order_by("pk"))
    assert len(history) == 2
    assert history[0].old is None  # the one that inserted
    assert history[1].old["raw_points"] == history[0].new["raw_points"]
    assert Decimal(history[1].new["raw_points"]) == score.raw_points
