"""Celery tasks of the quizzes: thin adapters over ``courseapp.quizzes.attempts``."""

from __future__ import annotations

from celery import shared_task

from courseapp.quizzes import attempts


@shared_task(name="quizzes.close_overdue_attempts")
def close_overdue_attempts_task() -> int:
    """Submit the attempts whose time is up, with their saved answers (run by beat every 15 s)."""
    return attempts.attempts_close_overdue()
