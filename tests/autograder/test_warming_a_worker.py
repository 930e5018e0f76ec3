"""A worker process is warmed before its first task (``autograder.warmup``): once, never failing
its start, and only where it grades."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from autograder import warmup, workers
from autograder.checks.forbidden import torch_object
from autograder.sandbox import host

TORCH_ADDRESS_SPACE = host.torch_address_space  # the real one, with its per-process cache


@pytest.fixture
def fresh_process(monkeypatch):
    monkeypatch.setattr(warmup, "_warmed", False)
    yield
    torch_object.cache_clear()  # a test without torch must not leave its None answers behind
    TORCH_ADDRESS_SPACE.cache_clear()


def test_it_warms_each_step_once(fresh_process, monkeypatch):
    measured, zygotes = [], []
    monkeypatch.setattr(warmup.host, "torch_address_space", lambda: measured.append(1) or 1)
    monkeypatch.setattr(warmup.warm, "prestart", lambda: zygotes.append(1))

    first = warmup.warm_worker()
    second = warmup.warm_worker()

    assert set(first) == {
        "warm sandbox",
        "torch address space",
        "reference run",
        "source scans",
        "data sets",
        "notebooks",
    }
    assert second == {} and measured == [1] and zygotes == [1]  # the second call does nothing


def test_it_does_not_fail_without_torch(fresh_process, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "torch", None)  # ``import torch`` raises ImportError
    host.torch_address_space.cache_clear()
    torch_object.cache_clear()

    took = warmup.warm_worker()

    assert "reference run" not in took and took["torch address space"] >= 0
    assert "reference run failed" in caplog.text
    assert warmup.warm_worker() == {}


def test_a_failing_warm_up_does_not_fail_the_worker_start(monkeypatch, caplog):
    def broken():
        raise RuntimeError("no warm-up today")

    monkeypatch.setattr(workers, "warm_worker", broken)
    monkeypatch.setattr(workers, "current_app", app_consuming({"default"}))

    workers.on_worker_process_init(sender="test@host")

    assert "could not warm worker process" in caplog.text


@pytest.mark.parametrize(
    "consumed, warmed",
    [({"default", "gpu", "maintenance"}, True), ({"gpu", "x"}, True), ({"maintenance"}, False)],
)
def test_only_a_worker_that_grades_is_warmed(monkeypatch, consumed, warmed):
    calls = []
    monkeypatch.setattr(workers, "warm_worker", lambda: calls.append(1))
    monkeypatch.setattr(workers, "current_app", app_consuming(consumed))

    workers.on_worker_process_init(sender="test@host")

    assert calls == ([1] if warmed else [])


def app_consuming(consumed):
    """What the handler reads of the Celery app: the queues this worker consumes."""
    return SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(consume_from=consumed)))
