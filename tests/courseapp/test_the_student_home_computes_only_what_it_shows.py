"""The course home shows a student their total and letter only: it computes their one breakdown,
never the many that "what do I need" takes; the page that shows those needs still computes them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from courseapp.demo.services import demo_seed
from grading import breakdowns as breakdowns_module


@pytest.fixture
def breakdowns(monkeypatch):
    """Counts the breakdowns computed, at the one place each is (``Breakdowns.__call__``); the
    real computation runs: a spy, not a mock."""
    calls = []
    real = breakdowns_module.Breakdowns.__call__

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(breakdowns_module.Breakdowns, "__call__", counted)
    return calls


@pytest.fixture
def student(client, db):
    demo_seed(with_admin=False)
    me = get_user_model().objects.get(username="student01")
    client.force_login(me)
    return me


def test_it_computes_one_breakdown_for_the_course_home(client, student, breakdowns):
    response = client.get("/courses/pmldl/")

    assert response.status_code == 200
    assert "My grade" in response.content.decode()
    assert len(breakdowns) == 1


def test_it_still_computes_the_needs_where_they_are_shown(client, student, breakdowns):
    response = client.get("/courses/pmldl/grades/")

    assert response.status_code == 200
    assert "What do I need?" in response.content.decode()
    assert len(breakdowns) > 1
