"""The one table of check kinds: a spec's ``kind = "..."`` is looked up here, and everything that
differs by kind (reading its fields, making its inputs, its probe, its verdict, its points) asks
the ``Kind`` found here rather than the kind's name. A new kind is a module in ``kinds/`` and one
line below."""

from __future__ import annotations

from autograder.checks.kinds.base import Kind
from autograder.checks.kinds.function import Function
from autograder.checks.kinds.module import Module
from autograder.checks.kinds.network import Network
from autograder.checks.kinds.optimizer import Optimizer
from autograder.checks.kinds.scheduler import Scheduler
from autograder.checks.kinds.statistical import Statistical
from autograder.checks.kinds.training import Training
from autograder.checks.spec import Check

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Function(),
        Module(),
        Optimizer(),
        Scheduler(),
        Statistical(),
        Training(),
        Network(),
    )
}


def kind_of(check: Check) -> Kind:
    return KINDS[check.kind]
