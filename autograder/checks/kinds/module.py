"""``kind = "module"``: a class built with ``init``, its ``parameters`` and ``buffers`` set from
the same seeded values as the reference's, called on ``inputs = [[batch, features]]`` in the
``modes`` asked for (training, evaluation), its outputs, state and gradients compared."""

from __future__ import annotations

from autograder.checks.kinds.base import Kind, Seeded
from autograder.checks.loading import resolve
from autograder.checks.spec import Check


class Module(Kind):
    name = "module"
    probe = "module"
    fields = {"parameters": (), "buffers": (), "modes": ("train", "eval")}

    def parse(self, values: dict, name: str) -> None:
        options = values["options"]
        for field in self.fields:
            options[field] = tuple(options[field])

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        shape = check.inputs[0]
        tensors = {"x": seeded.randn(shape) * 2 + 0.5, "x_eval": seeded.randn(shape)}
        reference = resolve(check.reference, private or {})(**check.init)
        for name in (*check.options["parameters"], *check.options["buffers"]):
            current = getattr(reference, name)
            if name == "running_var":
                tensors[f"state.{name}"] = seeded.randn(tuple(current.shape)).abs() + 0.5
            else:
                tensors[f"state.{name}"] = seeded.randn(tuple(current.shape))
        return tensors

    def spec(self, check: Check) -> dict:
        return {field: list(check.options[field]) for field in self.fields}
