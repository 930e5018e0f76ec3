"""What the student may read of a cell's outputs: a test's (less when it has a hidden part) and a
reference check's (the check's finding, or the student's frames of an error)."""

from __future__ import annotations

import builtins
import re


def text_of(outputs: list, *, hidden: bool, visible: str = "") -> str:
    """A cell's outputs as the student may read them. ``hidden`` (a test with a hidden part):
    only the kind of its error, when that is one of Python's own exceptions, and its message only
    when the message is text of ``visible`` (the cell's source without the hidden part), such as
    an ``assert``'s message in the visible part.

    The hidden part runs in the student's kernel, where the student's code can read it (from the
    call stack, ``In``) and put it into anything it raises or prints: an exception's message, or
    the name of an exception class of its own making. So nothing else is shown."""
    parts = []
    for output in outputs:
        if output.output_type == "stream":
            if not hidden:
                parts.append(output.text)
        elif output.output_type == "error":
            if hidden:
                parts.append(_hidden_error(output.get("ename", ""), output.get("evalue"), visible))
            elif not output.get("traceback"):
                parts.append(f"{output.ename}: {output.evalue}".rstrip(": "))
            else:
                parts.append("\n".join(output.traceback))
        elif output.output_type in ("execute_result", "display_data") and not hidden:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return strip_ansi("".join(p if p.endswith("\n") else p + "\n" for p in parts if p))[-4000:]


CHECK_ERRORS = ("CheckFailed", "ProbeError")
# Frames of a traceback that are not the student's code: the check's, torch's, the library's.
NOT_THE_STUDENTS = ("probes.py", "__import__('probes')", "site-packages", "/lib/python3")
MAX_TEXT = 4000


def check_text(outputs: list) -> str:
    """A reference check cell's outputs for the student: the check's own finding as it is, or the
    student's error with the student's frames only (not the check's, nor the cell that ran it,
    nor torch's), the last frames kept when it is long."""
    parts = []
    for output in outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            ename, evalue = output.get("ename", ""), str(output.get("evalue", ""))
            if ename in CHECK_ERRORS:
                parts.append(evalue)
                continue
            frames = [strip_ansi(f) for f in output.get("traceback", [])[1:-1]]
            frames = [f for f in frames if not any(m in f for m in NOT_THE_STUDENTS)]
            parts.append("\n".join([*frames[-3:], f"{ename}: {evalue}".rstrip(": ")]))
    text = strip_ansi("".join(p if p.endswith("\n") else p + "\n" for p in parts if p)).strip()
    return text if len(text) <= MAX_TEXT else "…" + text[-(MAX_TEXT - 1) :]


def _hidden_error(ename: str, evalue, visible: str) -> str:
    builtin = getattr(builtins, ename, None)
    if not (isinstance(builtin, type) and issubclass(builtin, BaseException)):
        return "An error in a test with a hidden part (its message is not shown)."
    message = evalue.strip() if isinstance(evalue, str) else ""
    if message and message in visible:
        return f"{ename}: {message}"
    return f"{ename} in a test with a hidden part (its message is not shown)."


def visible_part(source: str) -> str:
    """A test cell's source without its ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS``."""
    kept, hiding = [], False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            hiding = True
        elif "END HIDDEN TESTS" in line:
            hiding = False
        elif not hiding:
            kept.append(line)
    return "\n".join(kept)


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
