"""Benchmark: what starting one sandboxed run costs a worker-sized process.

A worker has imported torch and holds a few hundred MB; each ``run_sandboxed`` starts a child from
it. A ``preexec_fn`` makes CPython ``fork()`` (copying the page tables of all that memory) where
it could ``vfork()``. This imports torch, allocates and touches ``--mb`` MB, then times
``run_sandboxed(["true"])`` ``--n`` times and prints the median and quartiles (wall seconds).

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

from autograder.sandbox import host, isolation_level, run_sandboxed  # noqa: E402


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
    with tempfile.TemporaryDirectory(dir="/tmp") as scratch:
        run_sandboxed(["true"], workdir=Path(scratch))  # probes bubblewrap once
        times = []
        for _ in range(args.n):
            started = time.perf_counter()
            result = run_sandboxed(["true"], workdir=Path(scratch))
            times.append(time.perf_counter() - started)
            assert result.ok, result
    q1, median, q3 = statistics.quantiles(times, n=4)
    print(
        f"run_sandboxed(['true']) x{args.n}, {isolation_level()}, {args.mb} MB + torch: "
        f"median {median * 1000:.1f} ms (quartiles {q1 * 1000:.1f}-{q3 * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
