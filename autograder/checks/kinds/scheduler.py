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
    fields = {"lr": 0.1, "epochs": 10, "metrics": ()}  # metrics: the loss passed to step()

    def parse(self, values: dict, name: str) -> None:
        values["options"]["metrics"] = tuple(float(m) for m in values["options"]["metrics"])

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        return {}

    def spec(self, check: Check) -> dict:
        options = check.options
        return {
            "lr": options["lr"],
            "epochs": options["epochs"],
            "metrics": list(options["metrics"]),
        }
