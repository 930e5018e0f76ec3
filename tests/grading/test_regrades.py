"""A student asks for a regrade of a published score; staff accept (through the history) or
decline; the student sees the reply."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from grading.services import regrades, scores
from grading.services.items import graded_item_publish


@pytest.fixture
def score(quiz, student, ta):
    return scores.score_set(item=quiz, student=student, points=5, by=ta, source="quiz")


def test_accepting_changes_the_score_through_the_history(score, student, ta):
    request = regrades.regrade_request_create(score=score, student=student, message="Q3 was right")

    regrades.regrade_request_accept(request=request, points=7, reply="Yes, Q3 counts", by=ta)

    request.refresh_from_db()
    score.refresh_from_db()
    assert (request.status, request.reply, request.resolved_by) == (
        "accepted",
        "Yes, Q3 counts",
        ta,
    )
    assert (score.raw_points, score.override_points) == (5, 7)
    last = score.history.last()
    assert (last.old["final"], last.new["final"]) == ("5", "7")
    assert last.reason == "Regrade: Yes, Q3 counts"


def test_declining_keeps_the_score_and_needs_a_reply(score, student, ta):
    request = regrades.regrade_request_create(score=score, student=student, message="more please")

    with pytest.raises(ValidationError, match="Write a reply"):
        regrades.regrade_request_decline(request=request, reply=" ", by=ta)
    regrades.regrade_request_decline(request=request, reply="The key is right.", by=ta)

    score.refresh_from_db()
    assert score.override_points is None
    with pytest.raises(ValidationError, match="already declined"):
        regrades.regrade_request_accept(request=request, points=9, reply="changed my mind", by=ta)


def test_a_student_asks_only_about_their_own_published_score(score, other_student, quiz, student):
    with pytest.raises(ValidationError, match="your own scores"):
        regrades.regrade_request_create(score=score, student=other_student, message="mine?")
    graded_item_publish(item=quiz, published=False)
    with pytest.raises(ValidationError, match="not published"):
        regrades.regrade_request_create(score=score, student=student, message="?")


def test_one_open_request_per_score(score, student):
    regrades.regrade_request_create(score=score, student=student, message="first")

    with pytest.raises(ValidationError, match="already have an open"):
        regrades.regrade_request_create(score=score, student=student, message="second")


def test_an_invalid_new_score_leaves_the_request_open(score, student, ta):
    request = regrades.regrade_request_create(score=score, student=student, message="x")

    with pytest.raises(ValidationError, match="above the maximum"):
        regrades.regrade_request_accept(request=request, points=50, reply="ok", by=ta)

    request.refresh_from_db()
    assert request.status == "open"
