"""The formula judge: SymPy work on untrusted formulas, in warm child processes with hard limits.

A formula such as ``exp(exp(exp(exp(exp(theta)))))`` is short and harmless to read but can keep
SymPy busy for hours. So no web, worker or beat process builds SymPy expressions of a student's
formula itself: it hands the judgement to a child process (``judge_worker.py``, a fresh Python
started with ``subprocess``, never a fork of a threaded server) that keeps SymPy imported between
judgements. Each judgement may use ``QUIZ_JUDGE_CPU_SECONDS`` of the child's CPU time (the child
interrupts itself; the parent kills it at that plus one second if it does not) and the child's
address space is capped at ``QUIZ_JUDGE_MEMORY_MB``. Over either, the answer is refused with the
reason, 0 points: a hostile formula is the student's doing. A child that dies, or does not answer
within ``QUIZ_JUDGE_WALL_SECONDS`` without having used its CPU time (a machine overloaded), is an
infrastructure fault: ``JudgeUnavailable``, never a score. Judging an answer inside a database
transaction is our bug and refused (``RuntimeError``): it would hold the transaction's locks.

Each process keeps up to ``QUIZ_JUDGE_PROCESSES`` children (threads beyond wait their turn), and
remembers recent verdicts, so that a class giving the same answer costs one judgement.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)
WORKER = Path(__file__).with_name("judge_worker.py")
CACHE_SIZE = 4096
START_SECONDS = 60  # a cold start on a loaded machine (Python and SymPy) takes a few seconds


class JudgeUnavailable(RuntimeError):
    """No verdict, through no fault of the answer: retry later, never score it."""


@dataclass(frozen=True)
class Judgement:
    right: bool
    feedback: str


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def formula_judge(*, answer: str, key: str, symbols) -> Judgement:
    """Whether ``answer`` is the key's formula, with a word on why; ``JudgeUnavailable`` if no
    child could decide."""
    cache_key = (answer.strip(), key, json.dumps(symbols, sort_keys=True))
    found = _CACHE.get(cache_key)
    if found is not None:
        return found
    _require_no_transaction()
    reply = _POOL.run({"op": "judge", "answer": answer, "key": key, "symbols": symbols})
    verdict = reply["verdict"]
    if verdict in ("over_budget", "over_memory"):
        what = "time" if verdict == "over_budget" else "memory"
        result = Judgement(
            False,
            f"The formula could not be checked within the {what} allowed "
            "for one answer; write it more simply.",
        )
    elif verdict == "key_over_budget":  # the author's key, not the student's answer
        log.error("The formula key %r takes longer than its time to evaluate.", key)
        raise JudgeUnavailable("This question's key is too slow to judge; staff have been told.")
    elif verdict in ("right", "wrong", "refused"):
        if reply.get("detail"):  # SymPy failed on the answer: refused, and staff may look
            log.warning("The formula judge refused %r (key %r): %s", answer, key, reply["detail"])
        result = Judgement(verdict == "right", reply["reason"])
    else:
        log.error("The formula judge failed on %r against %r: %s", answer, key, reply)
        raise JudgeUnavailable("The formula judge failed; staff have been told.")
    _CACHE.put(cache_key, result)
    return result


def formula_key_check(*, key: str, symbols) -> str:
    """ "" if answers can be judged against ``key`` over ``symbols``; if not, why."""
    reply = _POOL.run({"op": "key_check", "key": key, "symbols": symbols})
    if reply["verdict"] == "ok":
        return reply["reason"]
    if reply["verdict"] in ("over_budget", "over_memory"):
        return "The key takes too long to evaluate; write it more simply."
    raise JudgeUnavailable(f"The formula judge failed on the key: {reply}")


def _require_no_transaction() -> None:

    for connection in connections.all(initialized_only=True):
        # A test case's own atomic block stands for "no transaction" in tests.
        if any(not getattr(b, "_from_testcase", False) for b in connection.atomic_blocks):
            raise RuntimeError("A formula is judged outside any database transaction.")


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: OrderedDict = OrderedDict()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > CACHE_SIZE:
                self.items.popitem(last=False)


class _Child:
    """One warm judge process and its pipes; used by one thread at a time."""

    def __init__(self) -> None:
        memory = int(_setting("QUIZ_JUDGE_MEMORY_MB", 1024)) << 20
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(WORKER), str(memory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            cwd="/",
        )
        self.buffer = b""
        try:
            self._read(deadline=time.monotonic() + START_SECONDS, cpu_limit=None)
        except JudgeUnavailable:
            self.kill()
            raise

    def ask(self, job: dict) -> dict:
        cpu = _setting("QUIZ_JUDGE_CPU_SECONDS", 2.0)
        wall = _setting("QUIZ_JUDGE_WALL_SECONDS", 30.0)
        try:
            self.proc.stdin.write(json.dumps({**job, "cpu_seconds": cpu}).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError as exc:
            raise JudgeUnavailable("The formula judge's process is gone.") from exc
        # the key's preparation and the answer may each use ``cpu``
        return self._read(deadline=time.monotonic() + wall, cpu_limit=self._cpu() + 2 * cpu + 1.0)

    def _read(self, *, deadline: float, cpu_limit: float | None) -> dict:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            if cpu_limit is not None and self._cpu() > cpu_limit:
                self.kill()  # stuck where its own timer cannot interrupt it: the answer's doing
                return {"verdict": "over_budget"}
            if time.monotonic() > deadline:
                self.kill()
                raise JudgeUnavailable("The formula judge did not answer in time.")
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.kill()
                    raise JudgeUnavailable("The formula judge's process died.")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def _cpu(self) -> float:
        """The child's CPU time so far (user + system), from /proc."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.error("The formula judge's process %s did not die.", self.proc.pid)
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()

    def abandon(self) -> None:
        """In a forked copy of the owning process: let go of the pipes, leave the process."""
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError, ValueError):
                os.close(pipe.fileno())


class _Pool:
    def __init__(self) -> None:
        self.turn = threading.Condition()
        self.idle: list[_Child] = []
        self.started = 0

    def run(self, job: dict) -> dict:
        child = self._acquire()
        try:
            reply = child.ask(job)
        except BaseException:
            child.kill()
            self._release(None)
            raise
        self._release(child if child.alive else None)
        return reply

    def _acquire(self) -> _Child:
        limit = int(_setting("QUIZ_JUDGE_PROCESSES", 2))
        deadline = time.monotonic() + _setting("QUIZ_JUDGE_WALL_SECONDS", 30.0)
        with self.turn:
            while not self.idle and self.started >= limit:  # every child busy
                if not self.turn.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise JudgeUnavailable("Every formula judge is busy.")
            while self.idle:
                child = self.idle.pop()
                if child.alive:
                    return child
                child.kill()  # died while idle (killed from outside): start another
                self.started -= 1
            self.started += 1
        try:
            return _Child()
        except BaseException:
            self._release(None)
            raise

    def _release(self, child: _Child | None) -> None:
        with self.turn:
            if child is None:
                self.started -= 1
            else:
                self.idle.append(child)
            self.turn.notify()

    def warm(self) -> None:
        """Start a child now, in the background, unless one is already started: the first
        formula after a process starts would otherwise wait for Python and SymPy to load (a
        second or more of CPU; several on a loaded machine)."""

        def start() -> None:
            try:
                self._release(self._acquire())
            except JudgeUnavailable as exc:
                log.warning("The formula judge could not be started ahead: %s", exc)

        with self.turn:
            if self.started:
                return
        threading.Thread(target=start, name="formula-judge-warm", daemon=True).start()

    def forget(self) -> None:
        """After a fork: the children belong to the parent; this copy starts its own."""
        for child in self.idle:
            child.abandon()
        self.turn = threading.Condition()
        self.idle = []
        self.started = 0


_POOL = _Pool()
_CACHE = _Cache()
warm = _POOL.warm
os.register_at_fork(after_in_child=_POOL.forget)
