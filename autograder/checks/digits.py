"""The data set a training check trains and is scored on (scikit-learn's digits), split the same
way every time, and the copy of it the sandbox shows without the rows a check holds out.

torch is imported where it is used, so that reading a spec (``parsing``, ``cells``,
``autograder.harness``) does not load it: some seconds of start-up that tools and tests which
only read specs do without.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

from autograder.checks.spec import Check

DATASETS = ("digits",)


def dataset_split(check: Check):
    """(X_train, y_train, X_test, y_test) of the check's data set, shuffled by its seed: the
    same every time. scikit-learn's load_digits: 1,797 8x8 images, pixels scaled to [0, 1]."""
    options = check.options
    return _split(options["dataset"], options["classes"], check.seed, options["train_fraction"])


@functools.lru_cache(maxsize=8)  # made for the inputs, needed again for the score; not changed
def _split(dataset: str, classes: tuple[int, ...], seed: int, train_fraction: float):
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16
    y = torch.tensor(digits.target, dtype=torch.int64)
    if classes:
        keep = torch.isin(y, torch.tensor(classes))
        x, y = x[keep], y[keep]
        relabel = {c: i for i, c in enumerate(classes)}
        y = torch.tensor([relabel[int(v)] for v in y], dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    cut = int(len(y) * train_fraction)
    train, test = order[:cut], order[cut:]
    return x[train], y[train], x[test], y[test]


def without_classes(hidden: frozenset[int] | None) -> dict[Path, bytes]:
    """The data set files as the sandbox shows them: without the rows of ``hidden`` classes,
    or without any row (``None``)."""
    return {digits_file(): _digits_without(hidden)}


@functools.lru_cache(maxsize=8)  # the same few class sets at every grading of an assignment
def _digits_without(labels: frozenset[int] | None) -> bytes:
    """digits.csv.gz without the rows of ``labels`` (the last column), or without any row."""
    lines = gzip.decompress(digits_file().read_bytes()).decode().splitlines()
    kept = (
        []
        if labels is None
        else [line for line in lines if int(float(line.rsplit(",", 1)[1])) not in labels]
    )
    return gzip.compress(("\n".join(kept) + "\n").encode(), mtime=0)


def digits_file() -> Path:
    import sklearn.datasets

    return Path(sklearn.datasets.__file__).parent / "data" / "digits.csv.gz"
