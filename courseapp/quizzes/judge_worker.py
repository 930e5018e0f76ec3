"""The formula judge's child process: ``python -I judge_worker.py MEMORY_BYTES``.

It imports SymPy and this folder's ``formula`` and ``equivalence`` modules (not Django, not the
project), caps its own address space, says ``{"ready": true}``, then answers one JSON line per
JSON line it reads: ``{"op": "judge", "answer", "key", "symbols", "cpu_seconds"}`` or
``{"op": "key_check", "key", "symbols", "cpu_seconds"}``. Each job may use ``cpu_seconds`` of CPU
time (a profiling timer interrupts it); the parent kills the process if that does not stop it. A
judgement first prepares the key (its points, once per process) with ``cpu_seconds`` of its own,
so that the first student to be judged against a key is not charged for it.
It exits when its input closes (the parent went away).
"""

import importlib
import json
import os
import resource
import signal
import sys
import traceback
import types


class OverBudget(BaseException):  # BaseException: no ``except Exception`` in SymPy swallows it
    pass


def _on_timer(signum, frame):
    raise OverBudget


def _load():
    """This folder's modules as the package ``quizjudge``, without importing ``courseapp``."""
    package = types.ModuleType("quizjudge")
    package.__path__ = [os.path.dirname(os.path.abspath(__file__))]
    sys.modules["quizjudge"] = package
    return importlib.import_module("quizjudge.equivalence")


def _handle(equivalence, job: dict) -> dict:
    if job.get("op") == "key_check":
        return {"verdict": "ok", "reason": equivalence.key_check(job["key"], job["symbols"])}
    try:  # the key's points, once per process, on a budget of their own: not the answer's
        equivalence.key_prepare(job["key"], job["symbols"])
    except OverBudget:
        return {"verdict": "key_over_budget"}
    signal.setitimer(signal.ITIMER_PROF, float(job["cpu_seconds"]))
    verdict = equivalence.judge(job["answer"], job["key"], job["symbols"])
    return {"verdict": verdict.verdict, "reason": verdict.reason, "detail": verdict.detail}


def main() -> None:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything printed goes to stderr, never into the protocol
    memory = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    equivalence = _load()
    import sympy  # here, not at the top: under the memory limit set just above
    from sympy.core.cache import clear_cache

    sympy.Symbol("warm") + 1  # (SymPy's first operations are slow: do them now)
    signal.signal(signal.SIGPROF, _on_timer)
    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        job = json.loads(line)
        exit_after = False
        try:
            signal.setitimer(signal.ITIMER_PROF, float(job["cpu_seconds"]))
            reply = _handle(equivalence, job)
        except OverBudget:
            clear_cache()
            reply = {"verdict": "over_budget"}
        except MemoryError:
            reply, exit_after = {"verdict": "over_memory"}, True
        except RecursionError:
            reply = {"verdict": "over_budget"}
        except Exception:  # our bug, or SymPy's: the parent reports it, never as a score
            reply = {"verdict": "error", "reason": traceback.format_exc(limit=8)[-2000:]}
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        protocol.write(json.dumps(reply) + "\n")
        if exit_after:
            return


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # the parent is gone (a web worker stopped while this one started)
        os._exit(0)
