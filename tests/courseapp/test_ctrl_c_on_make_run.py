"""Ctrl-C in the terminal where `make run` runs: make's recipe runs ``deploy/dev.py`` as the
Makefile does, in a real pseudo-terminal; the Ctrl-C reaches honcho alone, every process stops and
make exits 0, with no "Error 130" or "Interrupt" (issue 17). The worker's part of a calm stop is
``tests/autograder/test_ctrl_c_while_grading.py``."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("make"), reason="no make here"),
]


def read_until(fd: int, out: bytearray, done, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done(out) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal's other side closed: everything ended
                return
            if not chunk:
                return
            out += chunk


def test_ctrl_c_stops_make_run_with_status_0(tmp_path):
    (tmp_path / "Procfile").write_text("idle: exec sleep 600\nother: exec sleep 600\n")
    (tmp_path / "Makefile").write_text(
        f"run:\n\t@{sys.executable} {ROOT / 'deploy' / 'dev.py'} -f Procfile\n"
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session of its own whose terminal is the pty, as in a shell
        os.chdir(tmp_path)
        os.execvp("make", ["make", "run"])
    out = bytearray()
    try:
        read_until(fd, out, lambda o: o.count(b"started (pid=") == 2, timeout=120)
        assert out.count(b"started (pid=") == 2, out.decode(errors="replace")

        os.write(fd, b"\x03")  # Ctrl-C, as typed: the terminal signals its foreground group
        read_until(fd, out, lambda o: False, timeout=120)
        _, status = os.waitpid(pid, 0)
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)

    text = out.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "SIGINT received" in text and "every process stopped calmly" in text, text
    assert "Error" not in text and "Interrupt" not in text, text
