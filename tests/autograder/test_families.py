"""Forbidding an API forbids its relatives (autograder/families.py): the table names only what
this torch has, and a check widens its list, labels each relative, and takes back what it allows."""

from __future__ import annotations

import pytest
import torch

from autograder import families
from autograder.checks.forbidden import forbidden_uses, torch_object


def test_every_name_and_operator_in_the_table_exists_in_this_torch():
    for family in families.FAMILIES:
        for name in (*family.forms, *family.relatives):
            owner, _, attr = name.rpartition(".")
            assert hasattr(torch_object(owner) or _module(owner), attr), name
        for op in family.aten:
            assert hasattr(torch.ops.aten, op), (family.name, op)


def _module(dotted: str):
    import importlib

    return importlib.import_module(dotted)


@pytest.mark.parametrize(
    ("forbidden", "relative", "op"),
    [
        ("torch.relu", "torch.nn.functional.threshold", "clamp"),
        ("torch.nn.functional.leaky_relu", "torch.nn.functional.rrelu", "rrelu_with_noise"),
        ("torch.nn.functional.leaky_relu", "torch.nn.PReLU", "_prelu_kernel"),
        ("torch.nn.functional.elu", "torch.nn.functional.selu", "celu"),
        ("torch.sigmoid", "torch.nn.functional.logsigmoid", "tanh"),
        ("torch.nn.functional.softmax", "torch.nn.functional.log_softmax", "_log_softmax"),
        ("torch.nn.functional.mse_loss", "torch.nn.functional.huber_loss", "smooth_l1_loss"),
        ("torch.optim.Adam", "torch.optim.AdamW", "_fused_adamw"),
        # one call and a fixed map: exp(-softplus(-x)), softmax([x, 0])[0], dist(p, t) ** 2 / n
        ("torch.sigmoid", "torch.nn.functional.softplus", "softplus"),
        ("torch.sigmoid", "torch.logaddexp", "logaddexp"),
        ("torch.sigmoid", "torch.logsumexp", "logsumexp"),
        ("torch.tanh", "torch.softmax", "_softmax"),
        ("torch.nn.functional.mse_loss", "torch.dist", "dist"),
        ("torch.nn.functional.mse_loss", "torch.cdist", "_cdist_forward"),
        (
            "torch.nn.functional.mse_loss",
            "torch.nn.functional.pairwise_distance",
            "pairwise_distance",
        ),
        ("torch.optim.Adam", "torch.optim.adam._single_tensor_adam", None),
        ("torch.optim.SGD", "torch.optim.sgd._multi_tensor_sgd", None),
        ("torch.optim.lr_scheduler.ExponentialLR", "torch.optim.lr_scheduler.StepLR", None),
        ("torch.nn.BatchNorm1d", "torch.nn.functional.layer_norm", "native_batch_norm"),
        ("torch.nn.Dropout", "torch.nn.functional.dropout1d", "native_dropout"),
    ],
)
def test_a_forbidden_function_brings_its_relatives_and_their_operators(forbidden, relative, op):
    widened = families.expand((forbidden,))

    assert widened.python[relative] == forbidden
    assert widened.label(relative) == f"{relative} (a relative of {forbidden})"
    assert op is None or widened.aten[op] == forbidden


def test_a_relative_does_not_bring_its_family_and_allow_takes_one_back():
    leaky = families.expand(("torch.nn.functional.leaky_relu",))
    relu = families.expand(("torch.relu",), allow=("torch.clamp", "torch.Tensor.clamp"))

    assert "torch.relu" not in leaky.python  # leaky ReLU is not ReLU with something fixed
    assert "torch.clamp" not in relu.python and "torch.nn.functional.threshold" in relu.python
    assert relu.label("torch.relu") == "torch.relu"


def test_the_source_scan_finds_a_relative_under_any_alias():
    source = b"import torch.nn.functional as F\ndef relu(x):\n    return F.threshold(x, 0., 0.)\n"

    uses = forbidden_uses({"nn.py": source}, ("torch.relu",), target="relu")

    assert uses == ["torch.nn.functional.threshold (a relative of torch.relu) (nn.py, line 3)"]
