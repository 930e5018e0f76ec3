"""A check's inputs are salted with a secret (so a student cannot compute them ahead of the
check); the secret is the assignment's own ``check_key`` from the database, not the machine's
``SECRET_KEY``, so that workers on different machines, each with its own settings, give the same
files the same inputs and so the same score."""

from __future__ import annotations

import pytest
from django.test import override_settings

from autograder.checks.scoring import PreparedChecks
from autograder.services.assignments import assignment_import
from autograder.services.autograde import grade_files
from tests.autograder.nbfactory import source_bytes, student_notebook


class Prepared(Exception):
    """Raised once the checks are prepared: what the test needs is known, nothing runs."""


@pytest.fixture
def keys_used(monkeypatch):
    used: list[bytes | None] = []
    real = PreparedChecks.prepare.__func__

    def spy(cls, *args, key=None, **kwargs):
        used.append(key)
        real(cls, *args, key=key, **kwargs)
        raise Prepared

    monkeypatch.setattr(PreparedChecks, "prepare", classmethod(spy))
    return used


def test_a_worker_salts_with_the_assignments_key_whatever_its_secret_key(assignment, keys_used):
    for secret in ("one machine's key " * 4, "another machine's key " * 4):
        with override_settings(SECRET_KEY=secret), pytest.raises(Prepared):
            grade_files(assignment, {"a1.ipynb": student_notebook()})
    assert keys_used == [assignment.check_key.encode()] * 2


def test_every_assignment_has_a_key_of_its_own(assignment, instructor):
    other = assignment_import(
        course=assignment.course, slug="a2", title="A2", files={"a2.ipynb": source_bytes()}
    )
    assert len(assignment.check_key) == len(other.check_key) == 64
    assert other.check_key != assignment.check_key
