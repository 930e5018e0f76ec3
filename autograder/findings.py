"""What the reference checks trust, said once: code that changes or reaches into torch, the
interpreter or the grader's checking code (found in the source by ``checks.tampering`` and
``reach.reaches``, or reported at run time by the sandbox's guard), and outputs the guard does not
vouch for. Either way the student's checks score 0, and staff are told why."""

from __future__ import annotations

import json

from autograder import probes
from autograder.checks.exchange import probe_spec
from autograder.checks.spec import Check
from autograder.guard import FINDING

UNTRUSTED = (
    "the reference checks need torch, the interpreter and the grader's code as they are, so "
    "every check scores 0."
)
UNATTESTED = (
    "The check's outputs were not made by the grader's checker (its attestation is missing or "
    "wrong): the check scores 0."
)


def at_run_time(stderr: str) -> list[str]:
    """What the guard reported on the sandbox's standard error, in order, once each."""
    found = []
    for line in (stderr or "").splitlines():
        _, marker, rest = line.partition(FINDING)
        if not marker:
            continue
        try:
            what = str(json.loads(rest))
        except ValueError:
            what = rest.strip()
        if what not in found:
            found.append(what)
    return found


def message(*, changes, reaches, run_time) -> str:
    """For the student (and every check): what the code did that the checks cannot trust."""
    parts = []
    if changes:
        parts.append("changes " + "; ".join(changes))
    if reaches:
        parts.append("reaches for " + "; ".join(reaches))
    if run_time:
        parts.append("at run time " + "; ".join(run_time))
    return f"Your code {' and '.join(parts)}: {UNTRUSTED}" if parts else ""


def for_staff(*, changes, reaches, run_time) -> list[str]:
    return (
        [f"Changes torch or the checks' code: {w}" for w in changes]
        + [f"Reaches for the checking machinery: {w}" for w in reaches]
        + [f"Reported by the sandbox's guard: {w}" for w in run_time]
    )


def attested_outputs(check: Check, outputs: bytes, inputs: bytes, keys) -> dict | None:
    """The check's outputs if the guard vouches for them (its key, this check's spec and
    inputs); None if not."""
    if not keys:
        return None
    return probes.attested(keys, probe_spec(check), inputs, outputs)
