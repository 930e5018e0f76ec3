"""The quiz of the exam-day benches (``quiz_burst.py``, ``request_cpu.py``): one question of each
kind the burst answers (single choice, numeric, short text, formula), open from five minutes ago
for an hour, with a 30-minute limit."""

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
