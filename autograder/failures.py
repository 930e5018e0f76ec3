"""How grading itself can fail, kept apart from what a student's code earns (CONVENTIONS §12).

Three kinds of outcome, all the way to the page:

* the student's result: a wrong answer, a crash, a timeout, a killed kernel once the student's
  code has run. A ``Grade`` with feedback, never an exception from here.
* an infrastructure fault (``InfrastructureFault`` and the database's connection errors, together
  ``TRANSIENT``): the sandbox could not start the runner, the runner never signed that it started,
  the kernel died before the first student cell, a file of the submission or the assignment is
  missing from storage. Retried with backoff by the grading task; never a score.
* our bug: any other exception in the grading machinery. Failed loudly to staff; never a score.

What tells the first two apart is evidence the student's code cannot forge: the runner signs its
start and how far it got on a channel only it holds (``autograder.execution``).
"""

from __future__ import annotations

import contextlib
import errno

from django.db import InterfaceError, OperationalError


class GradingFailure(Exception):
    """Grading itself failed; the message is for staff (the student is told only that it did)."""


class InfrastructureFault(GradingFailure):
    """A fault of the machinery that another try may not meet: retried, never a score."""


class SandboxDidNotStart(InfrastructureFault):
    """The runner never signed its start: the sandbox (bubblewrap, setpriv, the interpreter)
    could not run it."""


class StoppedBeforeStudentCode(InfrastructureFault):
    """The runner started, but it, its kernel or its test process ended before any of the
    student's code ran (a kernel that could not start, limits too tight for the interpreter)."""


class FileMissing(InfrastructureFault):
    """A file the grading needs (the submission's, the assignment's, a data set) is not there."""


class WorkerExhausted(InfrastructureFault):
    """The worker ran out of something of its own: disk, open files, processes, memory."""


EXHAUSTED = {errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM}


@contextlib.contextmanager
def worker_resources():
    """Inside it, the worker's own file and process errors (the student's code never runs in
    this process) are infrastructure faults: a missing file, a full disk, no fd or process left."""
    try:
        yield
    except FileNotFoundError as exc:
        raise FileMissing(f"A file the grading needs is missing: {exc}") from exc
    except OSError as exc:
        if exc.errno not in EXHAUSTED:
            raise
        raise WorkerExhausted(f"The worker ran out of resources: {exc}") from exc


# What the grading task retries with backoff; anything else fails at once.
TRANSIENT = (InfrastructureFault, OperationalError, InterfaceError)


def describe(exc: BaseException) -> str:
    """An exception as staff read it on the failed grading: its kind and its message."""
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else repr(exc)
