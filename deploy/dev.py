"""`make run`'s process manager: honcho on the Procfile, with a calm Ctrl-C.

``python deploy/dev.py [honcho start options]``. Three things differ from ``honcho start``:

- Ctrl-C reaches honcho alone. In a terminal this process makes its own process group the
  terminal's foreground group, so make does not get the SIGINT too (make then reported
  "Error 130" for a stop that was asked for). honcho's children run in sessions of their own
  and get honcho's SIGTERM only.
- honcho waits ``STOP_WAIT_SECONDS`` for its processes before it SIGKILLs them, not 5 s: a worker's
  warm shutdown finishes the grading in flight (``autograder/shutdown.py``).
- The exit status is 0 when a signal asked for the stop and every process stopped calmly (exit 0,
  or the SIGTERM that honcho sent), not honcho's 130.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

import honcho.command
import honcho.manager

# The longest a worker may take to finish its grading in flight before honcho SIGKILLs it; as
# long as a demo grading takes, with room.
STOP_WAIT_SECONDS = 300
CALM_STOPS = {0, -signal.SIGTERM, 128 + signal.SIGTERM}
STOPPED_BY_SIGNAL = {128 + signal.SIGINT, 128 + signal.SIGTERM}


class CalmManager(honcho.manager.Manager):
    def loop(self) -> None:
        super().loop()
        if self.returncode in STOPPED_BY_SIGNAL:
            ends = {name: p.get("returncode") for name, p in self._processes.items()}
            rough = {name: rc for name, rc in ends.items() if rc not in CALM_STOPS}
            self.returncode = 1 if rough else 0
            self._system_print(
                f"stopped: {', '.join(f'{n} (rc={rc})' for n, rc in rough.items())}\n"
                if rough
                else "every process stopped calmly\n"
            )


@contextlib.contextmanager
def terminal_foreground():
    """This process, in a process group of its own, as the terminal's foreground group (where
    there is a terminal); the terminal goes back to the previous group afterwards."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield  # no terminal (CI, a test): signals come from whoever started us
        return
    previous = os.getpgrp()
    try:
        if os.tcgetpgrp(tty) != previous:
            raise OSError("started in the background: the terminal stays where it is")
        os.setpgid(0, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may not take it
        os.tcsetpgrp(tty, os.getpgrp())
    except OSError:
        with contextlib.suppress(OSError):
            os.setpgid(0, previous)  # back with make, which then gets the Ctrl-C as before
        os.close(tty)
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.tcsetpgrp(tty, previous)
        os.close(tty)


def main(argv: list[str]) -> int:
    honcho.manager.KILL_WAIT = STOP_WAIT_SECONDS
    honcho.command.Manager = CalmManager
    with terminal_foreground():
        try:
            honcho.command.main(["start", *argv])
        except SystemExit as end:
            return end.code if isinstance(end.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
