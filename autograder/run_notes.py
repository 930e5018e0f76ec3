"""What the student and staff are told about how a run in the sandbox ended: why it stopped
early, why nothing could be scored, what the sandbox could not hide."""

from __future__ import annotations

from autograder.execution import Execution
from autograder.sandbox import Limits, SandboxResult

STOP_REASONS = {
    "timeout": "{what} ran longer than the {limit} s allowed for a run; it was stopped.",
    "cpu_limit": "{what} used more CPU time than allowed and was stopped.",
    "memory_limit": "{what} used more memory than the {memory} MB allowed.",
    "output_limit": "{what} printed more than the {output} KB of output allowed.",
    "disk_limit": "{what} wrote more than the {disk} MB or {entries} files allowed in its folder.",
    "signal": "{what} was killed.",
}


def stopped_note(execution: Execution, limits: Limits) -> str | None:
    """Why the run stopped early, for the student (it got as far as the student's code, or
    ``run_notebook`` would have raised an infrastructure fault instead)."""
    state = execution.status.get("state")
    if execution.sandbox.stopped_because in STOP_REASONS:
        return sandbox_note(execution.sandbox, limits, what="The notebook")
    if state == "kernel_died":
        return (
            "The notebook's kernel died (os._exit, a crash, or too much memory); "
            "the cells after that did not run."
        )
    if state == "runner_error":
        return "The notebook's kernel stopped answering; the cells after that did not run."
    return None


def nothing_scored(notes: list[str], tampered: bool, stopped: str | None, otherwise: str) -> str:
    """Why a run left nothing to score, added to ``notes`` once; every test gets it too."""
    if tampered:
        message = "The grading files were changed by the submission; nothing could be scored."
    else:
        message = stopped or otherwise
    if message not in notes:
        notes.append(message)
    return message


def sandbox_note(sandbox: SandboxResult, limits: Limits, *, what: str) -> str | None:
    """Why the sandbox stopped the run, if it did, for the student."""
    template = STOP_REASONS.get(sandbox.stopped_because)
    if template is None:
        return None
    return template.format(
        what=what,
        limit=int(limits.wall_seconds),
        memory=limits.memory_bytes // 2**20,
        output=limits.output_bytes // 1024,
        disk=limits.disk_bytes // 2**20,
        entries=limits.disk_entries,
    )


def unhidden(replaced: dict, sandbox: SandboxResult) -> str:
    """For staff: a training check's held-out data could not be hidden from the run."""
    if not replaced or sandbox.isolation == "bubblewrap":
        return ""
    return (
        "Warning: without bubblewrap the sandbox could not hide the held-out part of the data "
        "set from the student's code; a training check's score can be gamed.\n"
    )
