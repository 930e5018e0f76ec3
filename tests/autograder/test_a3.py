"""A3 (reusing pretrained layers) as shipped in courseapp/demo/assignments/a3: the reference
solution scores full marks; wrong solutions lose exactly the checks they break, and the feedback
says which layer is wrongly frozen or trainable. Several independent mistakes share one grading
(each grading trains the network in the real sandbox, a few seconds)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.autograder.shipped import Shipped

A3 = Shipped("a3")
TRAINING = "train_on_digits_5_9"


def test_the_reference_solution_scores_full_marks():
    result = A3.grade(A3.source)

    assert A3.check_scores(result) == A3.full
    assert [(t.name, t.status) for t in result.tests if t.name not in A3.full] == [
        ("why_reuse", "manual")
    ]
    assert sum(A3.full.values()) + Decimal("1.5") == 10  # the demo's A3 item is worth 10 points
    [training] = [t for t in result.tests if t.name == TRAINING]
    assert training.output.startswith("Held-out accuracy 0.9"), training.output
    assert "Reference checks ran on cpu." in result.notes


MISTAKES = {
    "one layer too many frozen, a head without bias, a cache with a graph, unfreezing bottom-up": (
        [("for layer in model.hidden[:k]:\n        layer.requires_grad_(False)",
          "for layer in model.hidden[:k + 1]:\n        layer.requires_grad_(False)"),
         ("nn.Linear(model.head.in_features, n_classes)",
          "nn.Linear(model.head.in_features, n_classes, bias=False)"),
         ("    with torch.no_grad():\n        for layer in model.hidden[:k]:\n"
          "            X = torch.relu(layer(X))",
          "    for layer in model.hidden[:k]:\n        X = torch.relu(layer(X))"),
         ("for layer in reversed([*model.hidden, model.head]):",
          "for layer in [*model.hidden, model.head]:")],
        {"freeze_lower_layers": "hidden.2.weight should stay trainable (requires_grad=True)"
                                      "; it is frozen.",
         "replace_the_head": "The network it returns has no parameter head.bias.",
         "cache_frozen_outputs": "should not track gradients: compute it under "
                                               "torch.no_grad()",
         "unfreeze_one_at_a_time": "hidden.0.weight should be frozen "
                                           "(requires_grad=False) after call 1; it is trainable."},
    ),
    "freezing by eval(), a cache without the last ReLU, unfreezing everything at once": (
        [("for layer in model.hidden[:k]:\n        layer.requires_grad_(False)",
          "for layer in model.hidden[:k]:\n        layer.eval()"),
         ("            X = torch.relu(layer(X))\n    return X",
          "            X = layer(X) if layer is model.hidden[k - 1] else torch.relu(layer(X))\n"
          "    return X"),
         ("            layer.requires_grad_(True)\n            break",
          "            layer.requires_grad_(True)")],
        {"freeze_lower_layers": "hidden.0.weight should be frozen (requires_grad=False); "
                                      "it is trainable.",
         "cache_frozen_outputs": "Values of the output:",
         "unfreeze_one_at_a_time": "hidden.0.weight should be frozen "
                                           "(requires_grad=False) after call 1; it is trainable."},
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_wrong_solutions_lose_exactly_the_checks_they_break(mistake):
    edits, broken = MISTAKES[mistake]

    result = A3.grade(A3.solution(*edits))

    expected = {n: (0 if n in broken else p) for n, p in A3.full.items()}
    assert A3.check_scores(result) == expected, result.tests
    outputs = {t.name: t.output for t in result.tests}
    for name, message in broken.items():
        assert message in outputs[name], outputs[name]


def test_training_only_the_head_earns_part_of_the_training_points():
    result = A3.grade(A3.solution(("    for _ in range(3):", "    for _ in range(0):")))

    scores = A3.check_scores(result)
    assert scores == {**A3.full, TRAINING: 3}, result.tests
    [training] = [t for t in result.tests if t.name == TRAINING]
    assert training.status == "partial"
    assert "3 of 4 points (all 4 from 0.9)" in training.output, training.output


def test_an_untrained_network_earns_no_training_points():
    untrained = A3.solution(
        ("    fit(model.head, frozen_features(model, X_train, 3), y_train, epochs=100, lr=1e-2)\n"
         "    for _ in range(3):", "    for _ in range(0):")
    )  # fmt: skip

    result = A3.grade(untrained)

    assert A3.check_scores(result) == {**A3.full, TRAINING: 0}, result.tests
