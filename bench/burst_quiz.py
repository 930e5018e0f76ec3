"""The course of the exam-day benches (``quiz_burst.py``, ``request_cpu.py``): its students with
API tokens, and its quiz, one question of each kind the burst answers (single choice, numeric,
short text, formula), open from five minutes ago for an hour, with a 30-minute limit."""

from __future__ import annotations

import datetime


def burst_quiz_yaml(now: datetime.datetime) -> str:
    """The quiz ``burst`` of lecture 1, as ``quiz_import`` reads it."""
    import yaml

    return yaml.safe_dump(
        {
            "slug": "burst",
            "title": "Burst",
            "lecture": 1,
            "points": 10,
            "opens_at": (now - datetime.timedelta(minutes=5)).isoformat(),
            "closes_at": (now + datetime.timedelta(hours=1)).isoformat(),
            "time_limit_minutes": 30,
            "questions": [
                {
                    "slug": "single",
                    "kind": "single",
                    "points": 1,
                    "prompt": "Pick",
                    "choices": ["a", "b", "c"],
                    "key": {"answer": 0},
                },
                {
                    "slug": "numeric",
                    "kind": "numeric",
                    "points": 1,
                    "prompt": "0.25?",
                    "key": {"answer": 0.25, "abs_tol": 0.001},
                },
                {
                    "slug": "short_text",
                    "kind": "short_text",
                    "points": 1,
                    "prompt": "Word?",
                    "key": {"accepted": ["overfitting"]},
                },
                {
                    "slug": "formula",
                    "kind": "formula",
                    "points": 2,
                    "prompt": "Update?",
                    "key": {
                        "answer": "theta - eta*dR/dtheta",
                        "symbols": ["theta", "eta", "dR", "dtheta"],
                    },
                },
            ],
        }
    )


def burst_course(students: int, *, accommodate_every: int = 0) -> list[str]:
    """The course ``bench`` (a grading scheme, lecture 1, the quiz) and ``students`` students
    enrolled, each with an API token (every ``accommodate_every``-th with an accommodation);
    their tokens. In a database Django is set up for."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from courseapp.courses.models import Course, Enrollment, Lecture, Role
    from courseapp.quizzes import services
    from courseapp.quizzes.authoring import quiz_import
    from grading.services.schemes import grading_scheme_create

    course = Course.objects.create(code="bench", title="Bench", term="Bench")
    grading_scheme_create(
        course=course,
        components=[{"name": "Quizzes", "points": "10"}],
        letter_cutoffs=[{"letter": "A", "min_points": "0"}],
    )
    Lecture.objects.create(course=course, number=1, title="Lecture 1")
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"s{n:04d}") for n in range(students)])
    Enrollment.objects.bulk_create(
        [Enrollment(course=course, user=user, role=Role.STUDENT) for user in users]
    )
    for user in users[::accommodate_every] if accommodate_every else []:
        services.accommodation_set(
            course=course, student=user, time_factor=1.5, extra_minutes=5, extra_attempts=1
        )
    tokens = [Token.objects.create(user=user).key for user in users]
    quiz_import(course=course, text=burst_quiz_yaml(timezone.now()))
    return tokens
