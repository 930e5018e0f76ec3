"""A3 (reusing pretrained layers) as shipped in courseapp/demo/assignments/a3: the reference
solution scores full marks; wrong solutions lose exactly the checks they break, and the feedback
says which layer is wrongly frozen or trainable. Several independent mistakes share one grading
(each grading trains the network in the real sandbox, a few seconds)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autograder.checks.reference import best_device
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
    assert f"Reference checks ran on {best_device()}." in result.notes


MISTAKES = {
    "one layer too many frozen, a head without bias, a cache with a graph, unfreezing bottom-up": (
        [
            (
                "for layer in model.hidden[:k]:\n        layer.requires_grad_(False)",
                "for layer in model.hidden[:k + 1]:\n        layer.requires_grad_(False)",
            ),
            (
                "nn.Linear(model.head.in_features, n_classes)",
                "nn.Linear(model.head.in_features, n_classes, bias=False)",
            ),
            (
                "    with torch.no_grad():\n        for layer in model.hidden[:k]:\n"
                "            X = torch.relu(layer(X))",
                "    for layer in model.hidden[:k]:\n        X = torch.relu(layer(X))",
            ),
            (
                "for layer in reversed([*model.hidden, model.head]):",
                "for layer in [*model.hidden, model.head]:",
            ),
        ],
        {
            "freeze_lower_layers": "hidden.1.weight should stay trainable (requires_grad=True)"
            "; it is frozen (with k=1).",
            "replace_the_head": "The network it returns has no parameter head.bias.",
            "cache_frozen_outputs": "should not track gradients: compute it under torch.no_grad()",
            "unfreeze_one_at_a_time": "hidden.0.weight should be frozen "
            "(requires_grad=False) after call 1; it is trainable.",
        },
    ),
    "freezing by eval(), a cache without the last ReLU, unfreezing everything at once": (
        [
            (
                "for layer in model.hidden[:k]:\n        layer.requires_grad_(False)",
                "for layer in model.hidden[:k]:\n        layer.eval()",
            ),
            (
                "            X = torch.relu(layer(X))\n    return X",
                "            X = layer(X) if layer is model.hidden[k - 1]"
                " else torch.relu(layer(X))\n"
                "    return X",
            ),
            (
                "            layer.requires_grad_(True)\n            break",
                "            layer.requires_grad_(True)",
            ),
        ],
        {
            "freeze_lower_layers": "hidden.0.weight should be frozen (requires_grad=False); "
            "it is trainable (with k=1).",
            "cache_frozen_outputs": "Values of the output:",
            "unfreeze_one_at_a_time": "hidden.0.weight should be frozen "
            "(requires_grad=False) after call 1; it is trainable.",
        },
    ),
    "a hard-coded k, an inference-mode cache, unfreezing that fails when nothing is frozen": (
        [
            (
                "for layer in model.hidden[:k]:\n        layer.requires_grad_(False)",
                "for layer in model.hidden[:2]:\n        layer.requires_grad_(False)",
            ),
            (
                "    with torch.no_grad():\n        for layer in model.hidden[:k]:",
                "    with torch.inference_mode():\n        for layer in model.hidden[:k]:",
            ),
            (
                "    for layer in reversed([*model.hidden, model.head]):\n"
                "        if not all(p.requires_grad for p in layer.parameters()):\n"
                "            layer.requires_grad_(True)\n            break",
                "    frozen = [layer for layer in reversed([*model.hidden, model.head])\n"
                "              if not all(p.requires_grad for p in layer.parameters())]\n"
                "    frozen[0].requires_grad_(True)",
            ),
        ],
        {
            "freeze_lower_layers": "hidden.1.weight should stay trainable (requires_grad=True); "
            "it is frozen (with k=1).",
            "cache_frozen_outputs": "is an inference tensor (torch.inference_mode)",
            "unfreeze_one_at_a_time": "IndexError: list index out of range",
            TRAINING: "Inference tensors cannot be saved for backward",
        },
    ),
}


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
        (
            "    fit(model.head, frozen_features(model, X_train, 3), y_train,"
            " epochs=100, lr=1e-2)\n"
            "    for _ in range(3):",
            "    for _ in range(0):",
        )
    )

    result = A3.grade(untrained)

    assert A3.check_scores(result) == {**A3.full, TRAINING: 0}, result.tests


FAKE_FREEZE = """def freeze_lower(model, k):
    import types
    real = nn.Module.named_parameters
    def lying(self, *args, **kwargs):  # says the first k layers are frozen, freezes nothing
        for name, p in real(self, *args, **kwargs):
            frozen = any(name.startswith(f"hidden.{i}.") for i in range(k))
            yield name, types.SimpleNamespace(requires_grad=not frozen, detach=p.detach)
    setattr(getattr(__import__("torch"), "nn").Module, "named_parameters", lying)
    return model"""


def test_a_notebook_cannot_fake_frozen_layers_or_reach_a_checks_inputs_early():
    import nbformat

    peek = "import glob\nprint('inputs seen:', sorted(glob.glob('check-*')))\n\n\n"
    notebook = A3.solution(
        (
            "def freeze_lower(model, k):\n    ### BEGIN SOLUTION\n"
            "    for layer in model.hidden[:k]:\n        layer.requires_grad_(False)\n"
            "    return model\n    ### END SOLUTION",
            FAKE_FREEZE,
        ),
        ("def train_on_new_digits(X_train, y_train):", peek + "def train_on_new_digits(X, y):"),
        (
            "torch.manual_seed(0)\n    model = replace_head",
            "X_train, y_train = X, y\n    torch.manual_seed(0)\n    model = replace_head",
        ),
    )

    result = A3.grade(notebook)

    outputs = {t.name: t.output for t in result.tests}
    # getattr(__import__("torch"), ...) is a reach for the machinery: every check scores 0
    assert set(A3.check_scores(result).values()) == {0}
    assert "reaches for __import__ (cell freeze" in outputs["freeze_lower_layers"]
    executed = nbformat.reads(result.executed, as_version=4)
    [cell] = [c for c in executed.cells if "inputs seen" in c.source]
    printed = "".join(o.get("text", "") for o in cell.outputs)
    # the training check comes after this cell: its inputs (the training set) are not there yet
    assert printed.startswith("inputs seen:") and "check-4-in" not in printed, printed


LOOKUP = """def train_on_new_digits(X_train, y_train):
    from sklearn.datasets import load_digits  # the copy of the data set in the sandbox
    digits = load_digits()
    table = {tuple((torch.tensor(row) / 16).tolist()): int(label) - 5
             for row, label in zip(digits.data, digits.target) if label >= 5}
    def model(batch):
        found = [table.get(tuple(row.tolist()), 0) for row in batch]
        return torch.nn.functional.one_hot(torch.tensor(found), 5).float()
    return model"""


def test_looking_the_held_out_digits_up_in_scikit_learns_copy_earns_nothing():
    notebook = A3.solution(
        (
            "def train_on_new_digits(X_train, y_train):\n    ### BEGIN SOLUTION\n"
            "    torch.manual_seed(0)\n",
            LOOKUP + "\n\n\ndef unused(X_train, y_train):\n"
            "    ### BEGIN SOLUTION\n    torch.manual_seed(0)\n",
        ),
    )

    result = A3.grade(notebook)

    [training] = [t for t in result.tests if t.name == TRAINING]
    assert training.score == 0, training.output  # the held-out rows are not in the sandbox's copy


SWAPPED_CLASS = """def freeze_lower(model, k):
    class Liar(type(model)):  # reports the first k layers frozen, freezes nothing
        def named_parameters(self, *args, **kwargs):
            for name, p in super().named_parameters(*args, **kwargs):
                frozen = any(name.startswith(f"hidden.{i}.") for i in range(k))
                yield name, p.detach().requires_grad_(not frozen)
    model.__class__ = Liar
    return model"""


def test_a_network_whose_class_is_swapped_to_lie_is_read_as_it_is():
    notebook = A3.solution(
        (
            "def freeze_lower(model, k):\n    ### BEGIN SOLUTION\n"
            "    for layer in model.hidden[:k]:\n        layer.requires_grad_(False)\n"
            "    return model\n    ### END SOLUTION",
            SWAPPED_CLASS,
        ),
    )

    result = A3.grade(notebook)

    outputs = {t.name: t.output for t in result.tests}
    assert A3.check_scores(result)["freeze_lower_layers"] == 0
    assert "hidden.0.weight should be frozen" in outputs["freeze_lower_layers"]
