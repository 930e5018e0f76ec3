"""What a runner (``nbrunner``, ``pyrunner``) does with the one-time key the worker sends it: it
takes the key from standard input before anything of the student's runs, keeps it out of the
student's reach (the process is not dumpable), and reports how far it got, signed with it, on
the report channel (``AUTOGRADER_REPORT_FD``), a pipe only it holds.

Copied beside the runners into the sandbox's read-only folder; it imports nothing from the project.
"""

import contextlib
import ctypes
import hashlib
import hmac
import os
import sys

PR_SET_DUMPABLE = 4


def take_key():
    """(key, report): the key, read from standard input (closed after), and ``report(stage)``,
    which has said ``started``."""
    not_dumpable()
    key = sys.stdin.buffer.readline().strip()
    sys.stdin.close()
    report = reporter(key)
    report("started")
    return key, report


def reporter(key: bytes):
    """``report(stage)``: a signed line on the report channel, each stage once."""
    fd = int(os.environ.pop("AUTOGRADER_REPORT_FD", "-1"))
    if fd >= 0:
        os.set_inheritable(fd, False)  # nothing this process starts gets it
    done = set()

    def report(stage: str) -> None:
        if fd < 0 or stage in done:
            return
        done.add(stage)
        mac = hmac.new(key, b"stage\0" + stage.encode(), hashlib.sha256).hexdigest()
        with contextlib.suppress(OSError):
            os.write(fd, f"{stage} {mac}\n".encode())

    return report


def not_dumpable() -> None:
    """Keep the key out of reach of the student's processes (same uid): no ptrace, no
    /proc/PID/mem for this process."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
