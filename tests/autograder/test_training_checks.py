"""Training checks: a model trained by the student's function within the time budget (kept by the
runner, outside the student's process) earns points by its held-out accuracy.
"""

from __future__ import annotations

import pytest
import torch

from autograder import harness
from autograder.checks.digits import dataset_split
from autograder.checks.kinds.training import implausible, training_points
from autograder.checks.parsing import parse, parse_toml
from autograder.grader import grade_python
from autograder.sandbox import Limits
from tests.autograder.reference_checks import POINTS, grade, with_mistake


@pytest.mark.parametrize(
    ("old", "new", "points", "message"),
    [
        (
            "def fit_digits(x, y, epochs=150):",
            "def fit_digits(x, y, epochs=5):",
            1,
            "1 of 2 points (all 2 from 0.9)",
        ),
        (
            "    return model\n",
            "    return lambda inputs: torch.zeros(len(inputs), 10)\n",
            0,
            "0 of 2 points",
        ),
        (
            "def fit_digits(x, y, epochs=150):",
            "def fit_digits(x, y, epochs=150):\n    import time\n    time.sleep(16)",
            0,
            "the budget is 15 s",
        ),
    ],
)
def test_a_training_check_scores_held_out_accuracy(old, new, points, message):
    result = grade(with_mistake(old, new))

    [trained] = [t for t in result.tests if t.name == "digits classifier"]
    assert trained.score == points and message in trained.output, trained
    assert {t.name: t.score for t in result.tests if t.name != trained.name} == {
        n: p for n, p in POINTS.items() if n != trained.name
    }


def _digits_check():
    """A training check on digits 5-9 with a tenth of the rows to train on, seed 5."""
    [check] = parse(
        [
            {
                "name": "t",
                "kind": "training",
                "target": "fit",
                "points": 2,
                "classes": [5, 6, 7, 8, 9],
                "thresholds": [[0.9, 2]],
                "train_fraction": 0.1,
                "seed": 5,
            }
        ],
        default_module="nn",
    )
    return check


def test_training_feedback_says_what_is_wrong_with_the_predictions():
    import torch

    check = _digits_check()
    *_, y_test = dataset_split(check)
    n = len(y_test)

    transposed = {
        "predictions": torch.zeros(5, dtype=torch.int64),
        "returned_shape": torch.tensor([5, n]),
    }
    digits = {"predictions": y_test + 5, "returned_shape": torch.tensor([n])}

    assert training_points(check, transposed)[1] == (
        f"For the {n} held-out inputs (a batch of shape ({n}, 64)) the model should return "
        f"({n}, 5) scores, one row per input, or {n} class numbers; it returned shape (5, {n})."
    )
    assert training_points(check, digits) == (
        0,
        "Its predictions should be class numbers 0-4, as in y_train; they range from 5 to 9.",
    )


# The time budget is kept by the runner, outside the student's process

LAZY = """def fit(X, y):
    import time
    class Lazy:  # returns at once; the training happens when it is first asked to predict
        def __call__(self, inputs):
            time.sleep(8)
            return torch.zeros(len(inputs), 10)
    return Lazy()
"""
BUDGET_CHECK = b"""
[[checks]]
name = "trains in time"
kind = "training"
target = "fit"
time_budget = 1
thresholds = [[0.05, 1]]
points = 1
"""


def test_a_model_that_trains_when_asked_to_predict_is_over_budget_in_a_notebook():
    from autograder.notebook_pipeline import grade_notebook
    from tests.autograder.nbfactory import source_bytes, student_notebook

    result = grade_notebook(
        source=source_bytes(),
        submitted=student_notebook(extra_cells=["import torch\n" + LAZY]),
        data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120),
        cell_timeout=30,
        reference_checks=parse_toml(BUDGET_CHECK),
    )

    [check] = [t for t in result.tests if t.name == "trains in time"]
    assert check.score == 0 and "Training and predicting took" in check.output, check.output
    assert "the budget is 1 s" in check.output


def test_a_model_that_trains_when_asked_to_predict_is_over_budget_in_python_files():
    spec = harness.parse(b'files = ["nn.py"]\n' + BUDGET_CHECK)
    result = grade_python(
        spec=spec,
        instructor_files={},
        submitted={"nn.py": b"import torch\n" + LAZY.encode()},
        data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120),
        test_timeout=30,
    )

    [check] = result.tests
    assert check.score == 0 and "Training and predicting took" in check.output, check.output


def test_an_implausible_held_out_accuracy_is_pointed_out_to_staff():
    check = _digits_check()
    *_, y_test = dataset_split(check)

    perfect = implausible(check, {"predictions": y_test.clone()})
    plausible = implausible(
        check,
        {"predictions": torch.where(torch.arange(len(y_test)) % 10 == 0, (y_test + 1) % 5, y_test)},
    )

    assert perfect and "read the submission" in perfect[0]
    assert plausible == []
