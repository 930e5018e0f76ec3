"""Forbidding an API forbids its relatives: the same computation available as one library call.

A check that forbids ``torch.nn.functional.leaky_relu`` is not met by ``F.rrelu(x, s, s,
training=False)`` or ``F.prelu(x, weight)``: each is leaky ReLU with some of its arguments fixed.
Here a *relative* of a function f is a library function g such that

- g is f under another name: its in-place (``relu_``), method (``Tensor.relu``), module
  (``nn.ReLU``) or functional form, or the same object under another module path; or
- f is g with some of g's arguments fixed (``clamp(x, min=0)``, ``threshold(x, 0, 0)``,
  ``hardtanh(x, 0, inf)``, ``leaky_relu(x, 0)`` are ReLU; ``StepLR(step_size=1)`` is
  ``ExponentialLR``; ``AdamW(weight_decay=0)`` is ``Adam``); or
- f is g up to fixed maps of its input and output that add nothing of the exercise
  (``log_softmax(x).exp()``, ``(tanh(x / 2) + 1) / 2`` for the sigmoid, ``softmin(-x)``,
  ``layer_norm(x.T)`` for batch normalization's normalizing step).

A composition that does the exercise's work (``torch.where(x > 0, x, 0)``, ``x * (x > 0)``,
``torch.bernoulli`` for a dropout mask, ``((p - t) ** 2).mean()``) is the student's own.

Each family lists its *forms* (forbidding any of them forbids the family) and its *relatives*
(forbidden with it, but forbidding one of them does not forbid the family: ReLU is a special case
of leaky ReLU, not the other way round), and the aten operators all of them end up as, which the
sandbox's dispatch mode and operator recorder refuse (an operator ``x`` also covers ``x_``).

An author extends a check's list with ``forbid`` (any dotted name, with its family if it has
one) and takes a relative back with ``allow``; a new family is a new row here.
"""

from __future__ import annotations

from dataclasses import dataclass

F = "torch.nn.functional"
NN = "torch.nn"
OPT = "torch.optim"
LR = "torch.optim.lr_scheduler"


@dataclass(frozen=True)
class Family:
    name: str
    forms: tuple[str, ...]
    relatives: tuple[str, ...] = ()
    aten: tuple[str, ...] = ()


def _forms(
    name: str,
    *,
    module: str = "",
    tensor: bool = True,
    functional: str = "f_",
    inplace: bool = True,
):
    """torch.name(_), Tensor.name(_), F.name (``functional``: "f_" with F.name_ too, "f"
    without, "" neither) and the nn.Module, as torch has them."""
    suffixes = ("", "_") if inplace else ("",)
    forms = [f"torch.{name}{s}" for s in suffixes]
    if functional:
        forms += [f"{F}.{name}{s}" for s in (suffixes if functional == "f_" else ("",))]
    if tensor:
        forms += [f"torch.Tensor.{name}{s}" for s in suffixes]
    if module:
        forms.append(f"{NN}.{module}")
    return tuple(forms)


SIGMOID_FORMS = (*_forms("sigmoid", module="Sigmoid", functional="f"), "torch.special.expit")
TANH_FORMS = _forms("tanh", module="Tanh", functional="f")


def _impl(name: str, *, fused: bool = True) -> tuple[str, ...]:
    """An optimizer's functional form and the implementations it picks from (one loop per
    tensor, foreach, fused): torch's own Adam, whoever holds a reference to it."""
    kinds = (
        ("_single_tensor", "_multi_tensor", "_fused")
        if fused
        else ("_single_tensor", "_multi_tensor")
    )
    return (f"{OPT}.{name}.{name}", *(f"{OPT}.{name}.{kind}_{name}" for kind in kinds))


# exp(-softplus(-x)), exp(-logaddexp(0, -x)), exp(-logsumexp([0, -x])), softmax([x, 0])[0]: the
# sigmoid up to fixed maps of its input and output, as exp(logsigmoid(x)) is
SMOOTH_MAX = (
    *_forms("logaddexp", functional="", inplace=False),
    "torch.logsumexp",
    "torch.Tensor.logsumexp",
    "torch.special.logsumexp",
    f"{F}.softplus",
    f"{NN}.Softplus",
)
SMOOTH_MAX_ATEN = ("softplus", "logaddexp", "logsumexp")
SOFTMAX_FORMS = (
    *_forms("softmax", module="Softmax", functional="f", inplace=False),
    "torch.special.softmax",
    f"{NN}.Softmax2d",
)
LOG_SOFTMAX = (
    *_forms("log_softmax", module="LogSoftmax", functional="f", inplace=False),
    "torch.special.log_softmax",
)
SOFTMAX_ATEN = (
    "softmax",
    "_softmax",
    "log_softmax",
    "_log_softmax",
    "special_softmax",
    "special_log_softmax",
)

FAMILIES = (
    Family(
        "ReLU",
        forms=_forms("relu", module="ReLU"),
        relatives=(
            *_forms("threshold", module="Threshold", tensor=False),
            *_forms("clamp", functional=""),
            *_forms("clip", functional=""),
            *_forms("clamp_min", functional=""),
            *_forms("clamp_max", functional=""),
            "torch.maximum",
            "torch.Tensor.maximum",
            "torch.max",
            "torch.Tensor.max",
            "torch.fmax",
            "torch.Tensor.fmax",
            f"{F}.hardtanh",
            f"{F}.hardtanh_",
            f"{NN}.Hardtanh",
            f"{F}.relu6",
            f"{NN}.ReLU6",
            f"{F}.leaky_relu",
            f"{F}.leaky_relu_",
            f"{NN}.LeakyReLU",
            *_forms("rrelu", module="RReLU", tensor=False),
            *_forms("prelu", tensor=False, functional="f", inplace=False),
            f"{NN}.PReLU",
            f"{F}.elu",
            f"{F}.elu_",
            f"{NN}.ELU",
        ),
        aten=(
            "relu",
            "threshold",
            "clamp",
            "clip",
            "clamp_min",
            "clamp_max",
            "maximum",
            "max",
            "fmax",
            "hardtanh",
            "relu6",
            "leaky_relu",
            "rrelu",
            "rrelu_with_noise",
            "prelu",
            "_prelu_kernel",
            "elu",
        ),
    ),
    Family(
        "leaky ReLU",
        forms=(f"{F}.leaky_relu", f"{F}.leaky_relu_", f"{NN}.LeakyReLU"),
        relatives=(
            *_forms("rrelu", module="RReLU", tensor=False),
            *_forms("prelu", tensor=False, functional="f", inplace=False),
            f"{NN}.PReLU",
        ),
        aten=("leaky_relu", "rrelu", "rrelu_with_noise", "prelu", "_prelu_kernel"),
    ),
    Family(
        "ELU",
        forms=(f"{F}.elu", f"{F}.elu_", f"{NN}.ELU"),
        relatives=(
            *_forms("celu", module="CELU", tensor=False),
            *_forms("selu", module="SELU", tensor=False),
        ),
        aten=("elu", "celu", "selu"),
    ),
    Family(
        "sigmoid",
        forms=SIGMOID_FORMS,
        relatives=(
            f"{F}.logsigmoid",
            f"{NN}.LogSigmoid",
            f"{F}.silu",
            f"{NN}.SiLU",
            f"{F}.glu",
            f"{NN}.GLU",
            *TANH_FORMS,
            f"{F}.tanhshrink",
            f"{NN}.Tanhshrink",
            *SMOOTH_MAX,
            *SOFTMAX_FORMS,
            *LOG_SOFTMAX,
        ),
        aten=(
            "sigmoid",
            "special_expit",
            "log_sigmoid",
            "log_sigmoid_forward",
            "silu",
            "glu",
            "tanh",
            *SMOOTH_MAX_ATEN,
            *SOFTMAX_ATEN,
        ),
    ),
    Family(
        "tanh",
        forms=TANH_FORMS,
        relatives=(
            f"{F}.tanhshrink",
            f"{NN}.Tanhshrink",
            *SIGMOID_FORMS,
            f"{F}.logsigmoid",
            f"{NN}.LogSigmoid",
            f"{F}.silu",
            f"{NN}.SiLU",
            f"{F}.glu",
            f"{NN}.GLU",
            *SMOOTH_MAX,
            *SOFTMAX_FORMS,
            *LOG_SOFTMAX,
        ),
        aten=(
            "tanh",
            "sigmoid",
            "special_expit",
            "log_sigmoid",
            "log_sigmoid_forward",
            "silu",
            "glu",
            *SMOOTH_MAX_ATEN,
            *SOFTMAX_ATEN,
        ),
    ),
    Family(
        "softmax",
        forms=SOFTMAX_FORMS,
        relatives=(*LOG_SOFTMAX, f"{F}.softmin", f"{NN}.Softmin", f"{F}.gumbel_softmax"),
        aten=SOFTMAX_ATEN,
    ),
    Family(
        "mean squared error",
        forms=(f"{F}.mse_loss", f"{NN}.MSELoss"),
        # dist(p, t) ** 2 / n: the distance between prediction and target, one call
        relatives=(
            f"{F}.huber_loss",
            f"{NN}.HuberLoss",
            f"{F}.smooth_l1_loss",
            f"{NN}.SmoothL1Loss",
            f"{F}.gaussian_nll_loss",
            f"{NN}.GaussianNLLLoss",
            "torch.dist",
            "torch.Tensor.dist",
            "torch.cdist",
            f"{F}.pairwise_distance",
            "torch.pairwise_distance",
            f"{NN}.PairwiseDistance",
        ),
        aten=(
            "mse_loss",
            "huber_loss",
            "smooth_l1_loss",
            "dist",
            "cdist",
            "_cdist_forward",
            "_euclidean_dist",
            "pairwise_distance",
        ),
    ),
    Family(
        "SGD",
        forms=(f"{OPT}.SGD", *_impl("sgd")),
        relatives=(f"{OPT}.ASGD", *_impl("asgd", fused=False)),  # ASGD with lambd=0 is SGD
        aten=("_fused_sgd",),
    ),
    Family(
        "Adam",
        forms=(f"{OPT}.Adam", *_impl("adam")),
        relatives=(f"{OPT}.AdamW", f"{OPT}.adamw.adamw"),  # AdamW with weight_decay=0 is Adam
        aten=("_fused_adam", "_fused_adamw"),
    ),
    Family("Adagrad", forms=(f"{OPT}.Adagrad", *_impl("adagrad")), aten=("_fused_adagrad",)),
    Family("RMSprop", forms=(f"{OPT}.RMSprop", *_impl("rmsprop", fused=False))),
    Family(
        "step schedules",
        forms=(f"{LR}.MultiStepLR",),
        relatives=(f"{LR}.StepLR",),  # milestones every step_size epochs
    ),
    Family(
        "exponential schedule",
        forms=(f"{LR}.ExponentialLR",),
        # StepLR(step_size=1), MultiStepLR(milestones=every epoch), MultiplicativeLR(gamma)
        relatives=(f"{LR}.StepLR", f"{LR}.MultiStepLR", f"{LR}.MultiplicativeLR"),
    ),
    Family("plateau schedule", forms=(f"{LR}.ReduceLROnPlateau",)),
    Family(
        "batch normalization",
        forms=(f"{NN}.BatchNorm1d", f"{F}.batch_norm", "torch.batch_norm"),
        relatives=(
            f"{NN}.BatchNorm2d",
            f"{NN}.BatchNorm3d",
            f"{NN}.LazyBatchNorm1d",
            f"{NN}.LazyBatchNorm2d",
            f"{NN}.LazyBatchNorm3d",
            f"{NN}.SyncBatchNorm",
            "torch.native_batch_norm",
            "torch._native_batch_norm_legit",
            "torch.batch_norm_stats",
            "torch.batch_norm_elemt",
            "torch.batch_norm_update_stats",
            "torch.batch_norm_gather_stats",
            # one feature per row of x.T: the batch's statistics per feature
            f"{F}.instance_norm",
            "torch.instance_norm",
            f"{NN}.InstanceNorm1d",
            f"{NN}.InstanceNorm2d",
            f"{NN}.InstanceNorm3d",
            f"{F}.layer_norm",
            "torch.layer_norm",
            f"{NN}.LayerNorm",
            "torch.native_layer_norm",
            f"{F}.group_norm",
            "torch.group_norm",
            f"{NN}.GroupNorm",
            "torch.native_group_norm",
        ),
        aten=(
            "batch_norm",
            "native_batch_norm",
            "_native_batch_norm_legit",
            "_native_batch_norm_legit_no_training",
            "_native_batch_norm_legit_functional",
            "cudnn_batch_norm",
            "miopen_batch_norm",
            "_batch_norm_impl_index",
            "_batch_norm_with_update",
            "_batch_norm_no_update",
            "batch_norm_stats",
            "batch_norm_elemt",
            "batch_norm_update_stats",
            "batch_norm_gather_stats",
            "instance_norm",
            "layer_norm",
            "native_layer_norm",
            "group_norm",
            "native_group_norm",
        ),
    ),
    Family(
        "dropout",
        forms=(f"{NN}.Dropout", f"{F}.dropout", "torch.dropout", "torch.dropout_"),
        relatives=(  # on x[..., None] a channel is one unit
            f"{F}.dropout1d",
            f"{F}.dropout2d",
            f"{F}.dropout3d",
            f"{NN}.Dropout1d",
            f"{NN}.Dropout2d",
            f"{NN}.Dropout3d",
            "torch.feature_dropout",
            "torch.feature_dropout_",
            "torch.native_dropout",
        ),
        aten=("dropout", "native_dropout", "feature_dropout"),
    ),
)


@dataclass(frozen=True)
class Forbidden:
    """What a check refuses: Python names and aten operators, each with the name the author
    forbade that it stands for (itself, or the member of a family it is a relative of)."""

    python: dict[str, str]
    aten: dict[str, str]

    def label(self, name: str) -> str:
        """``name`` (a dotted name, or an aten operator) as the student is told it:
        "torch.clamp (a relative of torch.relu)", "aten::celu (a relative of ...elu)"."""
        if name in self.python:
            origin = self.python[name]
            return name if origin == name else f"{name} (a relative of {origin})"
        origin = self.aten.get(name, name)
        if origin.rpartition(".")[2] == name:
            return origin
        return f"aten::{name} (a relative of {origin})"


def expand(forbid, allow=()) -> Forbidden:
    """The names and operators that ``forbid`` refuses once each is widened to its family,
    less ``allow``."""
    python: dict[str, str] = {}
    aten: dict[str, str] = {}
    for name in forbid:  # as the author named them first: a relative of nothing
        python[name] = name
        aten.setdefault(name.rpartition(".")[2], name)  # torch.nn.functional.elu is aten::elu
    for name in forbid:
        for family in FAMILIES:
            if name in family.forms:
                for member in (*family.forms, *family.relatives):
                    python.setdefault(member, name)
                for op in family.aten:
                    aten.setdefault(op, name)
    for name in allow:
        python.pop(name, None)
        aten.pop(name.rpartition(".")[2], None)
    return Forbidden(python, aten)


def family_of(name: str) -> Family | None:
    return next((f for f in FAMILIES if name in f.forms), None)
