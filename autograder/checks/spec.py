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
    edge_values: bool = True  # function inputs start with EDGE_VALUES (0 has no derivative in ReLU)
    forbid: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()  # relatives of a forbidden API that this check allows after all
    parameters: tuple[str, ...] = ()
    buffers: tuple[str, ...] = ()
    modes: tuple[str, ...] = ("train", "eval")
    steps: int = 5
    lr: float = 0.1
    epochs: int = 10
    metrics: tuple[float, ...] = ()  # scheduler: the loss passed to step() each epoch
    rtol: float | None = None
    atol: float | None = None
    hidden: bool = False
    tolerance: float = 0.01  # statistical: how far the fraction dropped may be from p
    # training: the data set (its classes, relabelled 0..k-1), the split, the time to train,
    # and [accuracy, points] pairs: the most points whose accuracy the model reaches
    dataset: str = "digits"
    classes: tuple[int, ...] = ()
    train_fraction: float = 0.7
    time_budget: float = 30.0
    thresholds: tuple[tuple[float, Decimal], ...] = ()
    # network: the class its target takes an instance of, the data file of its weights, whether
    # it starts frozen, how often the target is called, and the shape of a probe of its output
    network: str = ""
    weights: str = ""
    frozen: bool = False
    calls: int = 1
    forward: tuple[int, ...] = ()
    cases: tuple[dict, ...] = ()  # network: keyword arguments of each case (else kwargs, once)
    # The fields of a kind's own (its ``Kind.options``), so that a new kind adds none here.
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


# Fields every check may have; a kind adds its ``options`` (kept in ``Check.options``).
COMMON_FIELDS = frozenset(Check.__dataclass_fields__) - {"index", "options"}


def positive_points(value) -> Decimal | None:
    """``value`` as points, if it is a number greater than 0."""
    try:
        points = Decimal(str(value))
    except InvalidOperation:
        return None
    return points if points.is_finite() and points > 0 else None
