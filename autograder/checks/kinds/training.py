"""``kind = "training"``: the student's function trains a model on the data set's training rows
within ``time_budget`` seconds; the model then predicts the held-out rows, whose labels never
enter the sandbox, and earns the most points of the ``thresholds`` ([accuracy, points] pairs)
whose accuracy it reaches. ``dataset`` (digits), ``classes`` (relabelled 0..k-1),
``train_fraction``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from autograder.checks import digits
from autograder.checks.kinds.base import Kind, Seeded
from autograder.checks.spec import Check, CheckError, positive_points

CHECK_MARGIN = 30  # seconds a training check's cell gets beyond its budget: loading, predicting
TRAINING_SLACK = 5.0  # seconds beyond the budget for loading the data and predicting
IMPLAUSIBLE_ACCURACY = 0.99


class Training(Kind):
    name = "training"
    probe = "training"
    needs_inputs = False
    has_reference = False
    # Its held-out part never enters the sandbox, and its split must not move between gradings.
    keeps_seed = True
    mutation_tested = False
    # The data set (its classes, relabelled 0..k-1), the split, the time to train, and
    # [accuracy, points] pairs: the most points whose accuracy the model reaches.
    fields = {
        "dataset": "digits",
        "classes": (),
        "train_fraction": 0.7,
        "time_budget": 30.0,
        "thresholds": (),
    }

    def parse(self, values: dict, name: str) -> None:
        options = values["options"]
        options["classes"] = tuple(int(c) for c in options["classes"])
        options["thresholds"] = _thresholds(options["thresholds"], name, values["points"])
        if options["dataset"] not in digits.DATASETS:
            raise CheckError(
                f"check {name!r}: dataset must be one of {', '.join(digits.DATASETS)}."
            )

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        x_train, y_train, x_test, _ = digits.dataset_split(check)
        return {"X_train": x_train, "y_train": y_train, "X_test": x_test}

    def cell_timeout(self, check: Check) -> int | None:
        """Past the budget, so that a slow training is told it was over its budget rather than
        stopped."""
        return int(check.options["time_budget"]) + CHECK_MARGIN

    def public_files(self, found: list[Check]) -> dict[Path, bytes]:
        """The data set without the rows of any training check's classes (all rows, for a check
        of every class), so that a notebook can neither look the held-out labels up in the copy
        of the data set that ships with scikit-learn nor train on the training rows before the
        check starts."""
        if not found:
            return {}
        classes = [c.options["classes"] for c in found]
        hidden = None if not all(classes) else frozenset(label for cs in classes for label in cs)
        return digits.without_classes(hidden)

    def over_budget(self, check: Check, result: dict) -> str:
        """Training and predicting, timed by the runner outside the student's process (whose
        clock the student's code could change), took longer than the budget allows."""
        took, budget = result.get("duration"), check.options["time_budget"]
        if not isinstance(took, int | float) or took <= budget + TRAINING_SLACK:
            return ""
        return (
            f"Training and predicting took {took:.1f} s in all; the budget is "
            f"{budget:g} s (and {TRAINING_SLACK:g} s to load the data and predict)."
        )

    def spec(self, check: Check) -> dict:
        return {"time_budget": check.options["time_budget"]}

    def points(self, check: Check, actual: dict) -> tuple[Decimal, str] | None:
        return training_points(check, actual)

    def for_staff(self, check: Check, actual: dict) -> list[str]:
        return implausible(check, actual)


def _thresholds(raw, name: str, points: Decimal) -> tuple[tuple[float, Decimal], ...]:
    try:
        pairs = tuple((float(acc), positive_points(pts)) for acc, pts in raw)
    except (TypeError, ValueError):
        pairs = ()
    if not pairs or any(p is None or p > points or not 0 < a <= 1 for a, p in pairs):
        raise CheckError(
            f"check {name!r}: thresholds must be [accuracy, points] pairs, accuracy in (0, 1], "
            "points up to the check's."
        )
    return tuple(sorted(pairs, reverse=True))


def training_points(check: Check, actual: dict) -> tuple[Decimal, str]:
    """The points the trained model's held-out accuracy earns, and what to tell the student."""

    *_, y_test = digits.dataset_split(check)
    predictions = actual.get("predictions")
    classes = int(y_test.max()) + 1
    if predictions is None or tuple(predictions.shape) != tuple(y_test.shape):
        returned = actual.get("returned_shape")
        shape = None if returned is None else tuple(int(n) for n in returned.tolist())
        return Decimal(0), (
            f"For the {len(y_test)} held-out inputs (a batch of shape ({len(y_test)}, "
            f"{check_features(check)})) the model should return ({len(y_test)}, {classes}) scores, "
            f"one row per input, or {len(y_test)} class numbers; it returned shape {shape}."
        )
    low, high = int(predictions.min()), int(predictions.max())
    if low < 0 or high >= classes:
        return Decimal(0), (
            f"Its predictions should be class numbers 0-{classes - 1}, as in y_train; they range "
            f"from {low} to {high}."
        )
    accuracy = _accuracy(check, actual)
    earned = next((pts for acc, pts in check.options["thresholds"] if accuracy >= acc), Decimal(0))
    best_acc, best_pts = check.options["thresholds"][0]
    message = (
        f"Held-out accuracy {accuracy:.3f} on {len(y_test)} digits: {earned} of {best_pts} points"
    )
    if earned < best_pts:
        message += f" (all {best_pts} from {best_acc:g})"
    return earned, message + "."


def implausible(check: Check, actual: dict) -> list[str]:
    """For staff: a held-out accuracy that a model trained within the rules hardly reaches here,
    which a table of the public data set's labels would (a reason to read the submission)."""
    accuracy = _accuracy(check, actual)
    if accuracy is None or accuracy < IMPLAUSIBLE_ACCURACY:
        return []
    return [
        f"Check {check.name!r}: held-out accuracy {accuracy:.3f} is more than a model trained "
        "on its training set usually reaches; read the submission (a table of the public data "
        "set's labels would do it)."
    ]


def _accuracy(check: Check, actual: dict) -> float | None:
    """The share of held-out inputs predicted right; None if the predictions are not one per
    held-out input."""
    import torch

    *_, y_test = digits.dataset_split(check)
    predictions = actual.get("predictions")
    if predictions is None or tuple(predictions.shape) != tuple(y_test.shape):
        return None
    return float((predictions.to(torch.int64) == y_test).double().mean())


def check_features(check: Check) -> int:
    x_train, *_ = digits.dataset_split(check)
    return int(x_train.shape[1])
