"""Shared fixtures: one course and the people every test talks about.

``instructor``, ``ta``, ``student`` and ``other_student`` are enrolled in ``course``; ``outsider``
has an account but no enrollment. ``api_as(user)`` gives an API client logged in as any of them.
With ``REDIS_URL`` unset, the session runs the embedded Redis broker on ``var/test``'s socket.
"""

from __future__ import annotations

import os
import uuid

import pytest
from rest_framework.test import APIClient

from courseapp.config import embedded_redis
from courseapp.courses.models import Role
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def broker():
    """The broker the settings name: Redis at ``REDIS_URL`` (CI), or else the embedded server
    that `make run` uses, started for this session (and the worker processes tests start)."""
    from django.conf import settings

    if settings.REDIS_URL:
        yield settings.CELERY_BROKER_URL
        return
    with embedded_redis.serving(settings.VAR_DIR):
        yield settings.CELERY_BROKER_URL


@pytest.fixture
def course(db):
    return CourseFactory(code="pmldl", title="Practical Machine Learning and Deep Learning")


def _enrolled(course, username: str, role: Role):
    user = UserFactory(username=username)
    EnrollmentFactory(course=course, user=user, role=role)
    return user


@pytest.fixture
def instructor(course):
    return _enrolled(course, "instructor", Role.INSTRUCTOR)


@pytest.fixture
def ta(course):
    return _enrolled(course, "ta", Role.TA)


@pytest.fixture
def student(course):
    return _enrolled(course, "student", Role.STUDENT)


@pytest.fixture
def other_student(course):
    return _enrolled(course, "other_student", Role.STUDENT)


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def api_as():
    """``api_as(user)``: a DRF client authenticated as ``user``."""

    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def throttle_key():
    """``throttle_key(address)``: the API login throttle's cache key for ``address``, deleted after
    the test. The cache is the real shared one (Redis in CI) and outlives a test's database."""
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    keys = []

    def key(address: str) -> str:
        keys.append(ScopedRateThrottle.cache_format % {"scope": "login", "ident": address})
        return keys[-1]

    yield key
    cache.delete_many(keys)


def pytest_sessionfinish(session, exitstatus):
    # In CI a run where every test was skipped must not pass as green.
    if os.environ.get("REQUIRE_TESTS_RAN") and exitstatus == 0:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and not reporter.stats.get("passed"):
            session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-protocol server: CI's (``TEST_S3_ENDPOINT``), or moto's, started for the session
    only when a test asks for it (``tests/s3.py``)."""
    from tests import s3

    with s3.serving() as server:
        yield server


@pytest.fixture(scope="session")
def s3_bucket_name(s3_server) -> str:
    return s3_server.new_bucket()


@pytest.fixture
def s3_bucket(s3_server, s3_bucket_name):
    """A prefix of this test's own in the session's bucket (``tests.s3.Bucket``)."""
    from tests import s3

    return s3.Bucket(s3_server, s3_bucket_name, prefix=f"test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def blobs_in_bucket(s3_bucket, settings):
    """``autograder.blobs`` stores in ``s3_bucket`` for this test, as with ``STORAGE_URL`` set."""
    settings.STORAGES = {**settings.STORAGES, "blobs": s3_bucket.storages_entry()}
    return s3_bucket
