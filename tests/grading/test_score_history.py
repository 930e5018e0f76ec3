"""Every change to a score is appended to its history, with who, why and the source; nothing in the
history can be edited or deleted, one by one or in bulk; a change that changes nothing writes
nothing; a changed due date is in each affected history."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from grading.models import AppendOnlyError, Score, ScoreHistory
from grading.services import scores
from tests.grading.conftest import DUE


def test_a_new_score_and_each_change_are_in_the_history(quiz, student, ta):
    scores.score_set(item=quiz, student=student, points=6, by=ta, source="manual", reason="paper")
    score = scores.score_set(item=quiz, student=student, points=7, by=ta, source="manual")

    history = list(score.history.all())
    assert [(h.old and h.old["final"], h.new["final"]) for h in history] == [
        (None, "6"),
        ("6", "7"),
    ]
    assert history[0].changed_by == ta and history[0].reason == "paper"
    assert history[0].source == "manual"


def test_setting_the_same_points_again_writes_nothing(quiz, student, ta):
    scores.score_set(item=quiz, student=student, points="7.0", by=ta, source="autograder")

    scores.score_set(item=quiz, student=student, points=7, by=ta, source="autograder")

    assert ScoreHistory.objects.count() == 1


def test_the_same_points_again_cost_no_more_than_the_lock(
    quiz, student, ta, django_assert_num_queries
):
    scores.score_set(item=quiz, student=student, points=7, by=ta, source="autograder")

    # A savepoint and its release, is it a student of the course, lock the score row: no more.
    with django_assert_num_queries(4):
        scores.score_set(item=quiz, student=student, points=7, by=ta, source="autograder")


def test_the_history_cannot_be_edited_or_deleted(quiz, student, ta):
    score = scores.score_set(item=quiz, student=student, points=7, by=ta, source="manual")
    entry = score.history.get()

    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert score.history.get().reason == ""


def test_an_override_needs_a_reason_and_keeps_the_raw_score(quiz, student, ta):
    score = scores.score_set(item=quiz, student=student, points=4, by=ta, source="autograder")

    with pytest.raises(ValidationError, match="needs a reason"):
        scores.score_override(score=score, points=9, reason=" ", by=ta)
    score = scores.score_override(score=score, points=9, reason="test was wrong", by=ta)

    assert (score.raw_points, score.override_points) == (4, 9)
    last = score.history.last()
    assert (last.old["final"], last.new["final"], last.reason) == ("4", "9", "test was wrong")


@pytest.mark.parametrize(
    ("points", "message"),
    [(11, "above the maximum of 10"), (-1, "negative"), ("abc", "not a number")],
)
def test_impossible_points_are_refused(quiz, student, ta, points, message):
    with pytest.raises(ValidationError, match=message):
        scores.score_set(item=quiz, student=student, points=points, by=ta, source="manual")
    assert not Score.objects.exists()


def test_only_students_of_the_course_get_scores(quiz, ta, outsider):
    with pytest.raises(ValidationError, match="not a student of pmldl"):
        scores.score_set(item=quiz, student=outsider, points=5, by=ta, source="manual")


def test_an_extension_granted_afterwards_recomputes_the_penalty_in_the_history(
    assignment, student, ta
):
    late = DUE + datetime.timedelta(hours=26)  # 2 started days late: −20 %
    score = scores.score_set(
        item=assignment, student=student, points=10, by=None, source="autograder", submitted_at=late
    )
    assert score.history.get().new["final"] == "8"

    scores.extension_grant(
        item=assignment,
        student=student,
        due_at=DUE + datetime.timedelta(days=2),
        reason="ill",
        by=ta,
    )

    last = score.history.last()
    assert (last.old["final"], last.new["final"]) == ("8", "10")
    assert last.reason.startswith("Extension to") and last.changed_by == ta


def test_an_extension_cannot_move_the_date_earlier(assignment, student, ta):
    with pytest.raises(ValidationError, match="later, not earlier"):
        scores.extension_grant(
            item=assignment,
            student=student,
            due_at=DUE - datetime.timedelta(days=1),
            reason="",
            by=ta,
        )


def test_excusing_needs_a_reason_and_is_logged(quiz, student, ta):
    with pytest.raises(ValidationError, match="Say why"):
        scores.score_set_status(item=quiz, student=student, status="excused", by=ta, reason="")

    score = scores.score_set_status(
        item=quiz, student=student, status="excused", by=ta, reason="medical"
    )

    assert score.status == "excused"
    assert score.history.get().new["status"] == "excused"


def test_the_history_refuses_bulk_edits_and_deletes(quiz, student, ta):
    scores.score_set(item=quiz, student=student, points=5, by=ta, source="quiz")

    with pytest.raises(AppendOnlyError):
        ScoreHistory.objects.update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        ScoreHistory.objects.all().delete()
    assert ScoreHistory.objects.count() == 1


def test_changing_an_items_due_date_is_in_each_affected_history(assignment, student, ta):
    scores.score_set(
        item=assignment,
        student=student,
        points=10,
        by=None,
        source="autograder",
        submitted_at=DUE + datetime.timedelta(hours=2),
    )

    scores.graded_item_update(
        item=assignment, by=ta, reason="moved", due_at=DUE + datetime.timedelta(days=1)
    )

    last = ScoreHistory.objects.order_by("pk").last()
    assert (last.old["final"], last.new["final"], last.changed_by) == ("9", "10", ta)
    assert last.reason == "A1 changed (due_at): moved"
