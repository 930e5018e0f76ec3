"""``kind = "function"``: a function called on tensors (``inputs``: one shape per positional
argument, ``kwargs`` to both), its output and, with ``gradients``, its gradients compared. The
inputs start with ``EDGE_VALUES`` unless ``edge_values = false`` (0 has no derivative in ReLU)."""

from __future__ import annotations

from autograder.checks.kinds.base import Kind, Seeded
from autograder.checks.spec import Check


class Function(Kind):
    name = "function"
    probe = "function"
    fields = {"edge_values": True}

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        return {
            f"arg{i}": seeded.randn(shape, edges=check.options["edge_values"])
            for i, shape in enumerate(check.inputs)
        }
