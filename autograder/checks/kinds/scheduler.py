"""``kind = "scheduler"``: a learning-rate schedule built with ``init`` on an optimizer whose rate
starts at ``lr``, stepped for ``epochs`` (with the loss ``metrics`` for plateau schedules); the
rate by epoch compared. It takes no tensors."""

from __future__ import annotations

from autograder.checks.kinds.base import Kind, Seeded
from autograder.checks.spec import Check


class Scheduler(Kind):
    name = "scheduler"
    probe = "scheduler"
    needs_inputs = False

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        return {}
