"""What a check kind is: one object that knows how the fields of its own are read from the spec,
how its inputs are made, which probe runs it (in the sandbox on the student's object, and here on
the reference), and how its outputs are judged. A new kind subclasses ``Kind`` in a module of its
own and adds one line to ``autograder.checks.registry``; nothing else asks for a kind by name.

torch is imported where it is used, so that reading a spec (``parsing``, ``cells``,
``autograder.harness``) does not load it: some seconds of start-up that tools and tests which
only read specs do without.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from autograder.checks import compare
from autograder.checks.spec import Check

EDGE_VALUES = (0.0, 1e-3, -1e-3, 10.0, -10.0, 50.0, -50.0)


class Seeded:
    """The random tensors of one check's inputs, from its seed and in its dtype: the same for the
    same seed, on the student's side and the reference's."""

    def __init__(self, check: Check) -> None:
        import torch

        self.generator = torch.Generator().manual_seed(check.seed)
        self.dtype = getattr(torch, check.dtype)

    def randn(self, shape, edges: bool = False):
        """Normal values; with ``edges``, the first ones are ``EDGE_VALUES``."""
        import torch

        values = torch.randn(shape, generator=self.generator, dtype=torch.float64)
        if edges and values.numel():
            flat = values.view(-1)
            count = min(len(EDGE_VALUES), flat.numel())
            flat[:count] = torch.tensor(EDGE_VALUES[:count], dtype=torch.float64)
        return values.to(self.dtype)

    def rand(self, shape):
        """Uniform values in [0, 1), in float64 (the caller converts them)."""
        import torch

        return torch.rand(shape, generator=self.generator, dtype=torch.float64)


class Kind:
    """A kind of reference check. The defaults fit a kind compared value by value with its
    reference, all points or none."""

    name: ClassVar[str] = ""  # what a spec's ``kind =`` says
    probe: ClassVar[str] = ""  # the procedure in ``probes.PROBES`` that runs it (see probes.py)
    fields: ClassVar[dict] = {}  # spec fields of its own and their defaults: ``Check.options``
    needs_inputs: ClassVar[bool] = True  # ``inputs`` must give at least one shape
    has_reference: ClassVar[bool] = True  # compared with a reference's outputs
    keeps_seed: ClassVar[bool] = False  # inputs from the author's seed alone (``inputs.salted``)
    mutation_tested: ClassVar[bool] = True  # ``autograder.strength`` runs mutants against it

    def parse(self, values: dict, name: str) -> None:
        """Check, and convert in place, the fields of this kind's own in ``values["options"]``
        (the common fields of ``values`` already read); raise ``CheckError`` saying what is
        wrong."""

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        """The tensors the student's object and the reference both get."""
        raise NotImplementedError

    def data_files(self, check: Check) -> set[str]:
        """The assignment's data files that the check loads here (a network's weights)."""
        return set()

    def spec(self, check: Check) -> dict:
        """What the probe gets beside the fields of every check's spec (``exchange.probe_spec``)."""
        return {}

    def with_objects(self, check: Check, spec: dict, lookup: Callable[[str], object]) -> dict:
        """``spec`` with the objects its probe takes besides the target, found by ``lookup``
        (a name in the reference's module, or in the author's namespace)."""
        return spec

    def cell_timeout(self, check: Check) -> int | None:
        """A time limit of its own for the cell or test that runs it, if it needs one."""
        return None

    def public_files(self, found: list[Check]) -> dict[Path, bytes]:
        """Files the sandbox shows in place of the real ones while ``found`` (checks of this
        kind) run."""
        return {}

    def problem(
        self, check: Check, inputs: dict, actual: dict, expected: Callable[[], dict]
    ) -> str:
        """What is wrong with the student's outputs ``actual``, "" if nothing; ``expected()``
        gives the reference's."""
        return compare.compare(check, expected(), actual)

    def over_budget(self, check: Check, result: dict) -> str:
        """Why the run took too long, as the runner timed it; "" if it did not."""
        return ""

    def points(self, check: Check, actual: dict) -> tuple[Decimal, str] | None:
        """The points earned by degree and what to tell the student; None for a kind that
        scores all or nothing by ``problem``."""
        return None

    def for_staff(self, check: Check, actual: dict) -> list[str]:
        """What staff should look at in these outputs."""
        return []
