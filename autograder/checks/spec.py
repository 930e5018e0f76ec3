"""What one reference check is, once read from its spec (``parsing``): the ``Check`` every other
module of the package takes, and the error that refuses a spec."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from autograder import families

DTYPES = ("float32", "float64", "float16", "bfloat16")
# torch.testing.assert_close's defaults, by dtype.
TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}


class CheckError(ValueError):
    """A check in the spec that cannot be run; the message says which and why."""


@dataclass(frozen=True)
class Check:
    index: int
    name: str
    kind: str  # a name in ``registry.KINDS``
    target: str  # module:attribute
    reference: str
    points: Decimal
    seed: int
    dtype: str = "float32"
    inputs: tuple[tuple[int, ...], ...] = ()
    kwargs: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)
    gradients: bool = False
    forbid: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()  # relatives of a forbidden API that this check allows after all
    rtol: float | None = None
    atol: float | None = None
    hidden: bool = False
    # The fields of its kind's own (``Kind.fields``, each given or its default), so that a kind
    # adds none here: ``check.options["steps"]`` of an optimizer check.
    options: dict = field(default_factory=dict)

    def tolerances_for(self, dtype: str) -> tuple[float, float]:
        """The author's tolerances, else torch.testing's for ``dtype`` (the compared tensor's:
        a learning rate is float64 whatever the check's dtype)."""
        rtol, atol = TOLERANCES.get(dtype, TOLERANCES[self.dtype])
        return (self.rtol if self.rtol is not None else rtol), (
            self.atol if self.atol is not None else atol
        )

    @property
    def forbidden(self) -> families.Forbidden:
        """``forbid`` with each API's relatives (``autograder.families``), less ``allow``."""
        return families.expand(self.forbid, self.allow)

    @property
    def target_name(self) -> str:
        return self.target.partition(":")[2]

    def files(self) -> tuple[str, str]:
        return f"check-{self.index}-in.safetensors", f"check-{self.index}-out.safetensors"


# Fields every check may have; a kind adds its own (``Kind.fields``, kept in ``Check.options``).
COMMON_FIELDS = frozenset(Check.__dataclass_fields__) - {"index", "options"}


def positive_points(value) -> Decimal | None:
    """``value`` as points, if it is a number greater than 0."""
    try:
        points = Decimal(str(value))
    except InvalidOperation:
        return None
    return points if points.is_finite() and points > 0 else None
