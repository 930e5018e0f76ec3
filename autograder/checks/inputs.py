"""A check's inputs, made here in the worker (seeded, with edge values) before the sandbox runs:
the student's object and the reference both get them. What they are is each kind's
(``Kind.make_inputs``); the seed they come from is this submission's (``salted``)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

from autograder.checks.kinds.base import Seeded
from autograder.checks.registry import kind_of
from autograder.checks.spec import Check


def salted(check: Check, students: dict[str, bytes], key: bytes) -> Check:
    """The check with the seed its inputs are made from for this submission: the author's seed
    mixed, under ``key`` (the site's secret), with the submission's own files. A student who knows
    how inputs are made (this file is public) still cannot compute them ahead of the check and
    answer from a table made with a forbidden function; the same files get the same inputs, so
    grading them again gives the same result. A kind may keep the author's seed
    (``Kind.keeps_seed``: a training check, whose held-out part never enters the sandbox)."""
    if kind_of(check).keeps_seed:
        return check
    mixed = hmac.new(key, f"{check.name}\0{check.seed}".encode(), hashlib.sha256)
    for name in sorted(students):
        mixed.update(hashlib.sha256(name.encode() + b"\0" + students[name]).digest())
    return replace(check, seed=int.from_bytes(mixed.digest()[:4], "big") >> 1)


def make_inputs(
    check: Check, private: dict[str, bytes] | None = None, data: dict[str, bytes] | None = None
) -> dict:
    """The tensors the student's object and the reference both get (``data``: the assignment's
    data files, where a network's weights are)."""
    return kind_of(check).make_inputs(check, Seeded(check), private=private, data=data)
