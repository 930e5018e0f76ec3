"""Benchmark: what starting one sandboxed run costs a worker-sized process.

A worker has imported torch and holds a few hundred MB; each ``run_sandboxed`` starts a child from
it. A ``preexec_fn`` makes CPython ``fork()`` (copying the page tables of all that memory) where
it could ``vfork()``. This imports torch, allocates and touches ``--mb`` MB, then times
``run_sandboxed(["true"])`` ``--n`` times each way, taking turns: the rlimits set by ``prlimit``
in front of the command (what the sandbox does), and by a ``preexec_fn`` (the baseline: what it
did, and still does on a host without prlimit); it prints the medians, quartiles and their ratio.

    .venv/bin/python bench/sandbox_spawn.py [--n 20] [--mb 400]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.sandbox import host, isolation_level, limits, run_sandboxed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--mb", type=int, default=400)
    args = parser.parse_args()

    import torch  # noqa: F401  (what a worker has loaded)

    ballast = bytearray(args.mb * 2**20)
    for offset in range(0, len(ballast), 4096):  # touched, so it is really mapped
        ballast[offset] = 1
    host.torch_address_space()  # measured (or read) before the clock starts
    times = {"prlimit": [], "preexec_fn": []}
    ways = (("prlimit", limits.PRLIMIT), ("preexec_fn", "/nonexistent"))
    with tempfile.TemporaryDirectory(dir="/tmp") as scratch:
        run_sandboxed(["true"], workdir=Path(scratch))  # probes bubblewrap once
        for _ in range(args.n):
            for way, program in ways:
                limits.PRLIMIT = program  # no prlimit there: the preexec_fn sets the limits
                times[way].append(_timed(Path(scratch)))
    print(f"run_sandboxed(['true']) x{args.n}, {isolation_level()}, {args.mb} MB + torch:")
    for way, taken in times.items():
        q1, median, q3 = statistics.quantiles(taken, n=4)
        print(
            f"  {way:>10}: median {median * 1000:.1f} ms, quartiles {q1 * 1000:.1f}-{q3 * 1000:.1f}"
        )
    ratio = statistics.median(times["preexec_fn"]) / statistics.median(times["prlimit"])
    print(f"  preexec_fn / prlimit: {ratio:.2f}x")


def _timed(workdir: Path) -> float:
    started = time.perf_counter()
    result = run_sandboxed(["true"], workdir=workdir)
    taken = time.perf_counter() - started
    assert result.ok, result
    return taken


if __name__ == "__main__":
    main()
