"""Benchmark: the server CPU of one quiz API request of each kind (issue 19's exam day).

Builds a course with one quiz (the kinds of ``bench/quiz_burst.py``: single, numeric, short_text,
formula) and ``--students`` students with API tokens (every fifth with an accommodation) in a
scratch test database (SQLite in a scratch file, or a ``test_request_cpu_bench`` database on the
server that DATABASE_URL names: never your own data, nor another test run's). Then, through
Django's test client with the token header, each student starts the quiz, saves ``--saves``
answers, reloads the start (it continues the open attempt) and submits. Each request's CPU is
this process's ``time.process_time`` around it (the site runs in this process, with no network;
on SQLite the database's work is in it too, on PostgreSQL it is the server's), and its SQL
statements are counted. The first ``--warm`` students are not counted (imports, first compiles).

Prints, per kind of request, the median and mean CPU ms and the statements per request, and a
digest of every response (times left out): two revisions that answer alike print the same one.

``--compare REV`` runs the same thing on the committed tree of ``REV`` (``git archive`` into a
scratch folder) and on this tree, each in a fresh process, and prints them side by side with the
ratio old / new; ``--rounds N`` runs them in turn N times and keeps, per kind, the round with the
lowest median (on a shared machine, the one least slowed by other work). ``--profile KIND``
(start, save, continue, submit) prints cProfile's view of the counted requests of that kind
(profiled one by one) instead of the figures.

    .venv/bin/python bench/request_cpu.py [--students 200] [--saves 4] [--warm 5]
        [--compare REV [--rounds N]] [--profile KIND] [--root PATH] [--json]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("start", "save", "continue", "submit")
VOLATILE = {"started_at", "deadline", "server_now", "seconds_left", "submitted_at", "saved_at"}
FORMULAS = ["theta - eta*dR/dtheta", "-eta*dR/dtheta + theta", "theta + eta*dR/dtheta"]
ANSWERS = {
    "single": lambda n: n % 3,
    "numeric": lambda n: ["0.25", "0.3", 0.25][n % 3],
    "short_text": lambda n: ["overfitting", "dropout"][n % 2],
    "formula": lambda n: FORMULAS[n % 3],
}
PG_TEST_NAME = "test_request_cpu_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--saves", type=int, default=4, help="saves per student")
    parser.add_argument("--warm", type=int, default=5, help="first students not counted")
    parser.add_argument("--compare", metavar="REV", help="also run REV's tree; side by side")
    parser.add_argument(
        "--rounds", type=int, default=1, help="with --compare: old and new in turn, N times"
    )
    parser.add_argument("--profile", choices=KINDS, help="cProfile the requests of this kind")
    parser.add_argument("--root", type=Path, default=HERE.parent, help="the project to measure")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.compare:
        compare(args)
        return
    figures = measure(args)
    if args.json:
        print(json.dumps(figures))
    elif not args.profile:
        report(figures)


# The measurement, in this process, of the project at ``--root``


def measure(args) -> dict:
    root = args.root.resolve()
    sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.test_settings")
    scratch = Path(tempfile.mkdtemp(prefix="request-cpu-"))
    os.environ["VAR_DIR"] = str(scratch / "var")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment(debug=False)  # as production: DEBUG off, no query log
    test = connection.settings_dict.setdefault("TEST", {})
    test["NAME"] = str(scratch / "bench.sqlite3") if connection.vendor == "sqlite" else PG_TEST_NAME
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        tokens = build(args.students)
        return drive(tokens, args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(scratch, ignore_errors=True)


def build(students: int) -> list[str]:
    """The course, its students with tokens (every fifth with an accommodation), the quiz."""
    from burst_quiz import burst_course

    return burst_course(students, accommodate_every=5)


def drive(tokens: list[str], args) -> dict:
    """Every student's requests in turn: CPU and statements per kind, the responses' digest."""
    from django.db import connection
    from django.test import Client

    base = "/api/courses/bench/quizzes/burst/attempts/"
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    queries: dict[str, list[int]] = {kind: [] for kind in KINDS}
    digest = hashlib.sha256()
    statements = [0]
    profiler = cProfile.Profile(time.process_time)

    def counting(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    def call(token, kind, method, path, counted, body=None):
        statements[0] = 0
        request = getattr(client, method)
        data = {} if body is None else {"data": json.dumps(body)}
        data["HTTP_AUTHORIZATION"] = f"Token {token}"
        if args.profile == kind and counted:
            profiler.enable()
        started = time.process_time()
        response = request(path, content_type="application/json", **data)
        spent = time.process_time() - started
        if args.profile == kind and counted:
            profiler.disable()
        if counted:
            cpu[kind].append(spent)
            queries[kind].append(statements[0])
        body = json.loads(response.content) if response.content else None
        digest.update(f"{kind} {response.status_code} {json.dumps(_stable(body))}\n".encode())
        return response.status_code, body

    # One client for all, as one server: a client of its own loads the middleware again.
    client = Client()
    with connection.execute_wrapper(counting):
        for index, token in enumerate(tokens):
            counted = index >= args.warm
            client.cookies.clear()
            status, attempt = call(token, "start", "post", base, counted)
            assert status == 201, (status, attempt)
            url = f"{base}{attempt['number']}/"
            questions = [(q["slug"], q["kind"]) for q in attempt["questions"]]
            for n in range(args.saves):
                slug, kind = questions[(index + n) % len(questions)]
                value = ANSWERS[kind](index + n)
                status, saved = call(
                    token, "save", "put", f"{url}answers/{slug}/", counted, {"value": value}
                )
                assert status == 200, (status, saved)
            status, _ = call(token, "continue", "post", base, counted)
            assert status == 201, status
            status, submitted = call(token, "submit", "post", f"{url}submit/", counted)
            assert status == 200 and submitted["state"] == "submitted", (status, submitted)
    if args.profile:
        n = len(cpu[args.profile])
        print(f"--- {n} {args.profile} requests, by total time (seconds for all {n}) ---")
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("tottime").print_stats(35)
        print(f"--- {n} {args.profile} requests, by cumulative time ---")
        stats.sort_stats("cumulative").print_stats(60)
    return {
        "vendor": connection.vendor,
        "students": len(tokens) - args.warm,
        "cpu": cpu,
        "queries": queries,
        "digest": digest.hexdigest()[:16],
    }


def _stable(value):
    """A response without what changes from run to run (times)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in sorted(value.items()) if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


# Printing, and the comparison of two trees


def _row(figures: dict, kind: str) -> tuple[float, float, str]:
    cpu, queries = figures["cpu"][kind], figures["queries"][kind]
    low, high = min(queries), max(queries)
    return (
        statistics.median(cpu) * 1000,
        statistics.mean(cpu) * 1000,
        str(low) if low == high else f"{low}-{high}",
    )


def report(figures: dict) -> None:
    print(
        f"quiz API requests on {figures['vendor']}, {figures['students']} students counted "
        f"(CPU of this process per request; statements per request)"
    )
    for kind in KINDS:
        median, mean, queries = _row(figures, kind)
        n = len(figures["cpu"][kind])
        print(f"  {kind:8} n={n:5}  CPU {median:6.2f} ms median, {mean:6.2f} mean  {queries} q")
    print(f"responses' digest: {figures['digest']}")


def compare(args) -> None:
    root = args.root.resolve()
    scratch = Path(tempfile.mkdtemp(prefix="request-cpu-rev-"))
    try:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", args.compare],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True)
        common = ["--students", str(args.students), "--saves", str(args.saves)]
        common += ["--warm", str(args.warm), "--json"]
        runs = [(_run(scratch, common), _run(root, common)) for _ in range(args.rounds)]
        old, new = _fastest([o for o, _ in runs]), _fastest([n for _, n in runs])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    this = f"{head}{'+changes' if dirty else ''}"
    print(
        f"quiz API requests on {new['vendor']}, {new['students']} students counted; CPU ms per "
        f"request (median / mean) and statements: {args.compare} (old) against {this} (new); "
        f"{args.rounds} round(s) in turn, each kind's fastest"
    )
    print(
        f"  {'':8}  {'old median':>10} {'mean':>7} {'q':>3}   {'new median':>10} {'mean':>7} "
        f"{'q':>3}   {'old/new':>7}"
    )
    for kind in KINDS:
        o, n = _row(old, kind), _row(new, kind)
        print(
            f"  {kind:8}  {o[0]:10.2f} {o[1]:7.2f} {o[2]:>3}   {n[0]:10.2f} {n[1]:7.2f} {n[2]:>3}"
            f"   {o[0] / n[0]:6.2f}x"
        )
    same = "the same" if old["digest"] == new["digest"] else "DIFFERENT"
    print(f"responses (times left out): {same} ({old['digest']} / {new['digest']})")


def _fastest(rounds: list[dict]) -> dict:
    """Of rounds run in turn on a shared machine, each kind's round with the lowest median (the
    one least slowed by other work); digests must agree."""
    best = dict(rounds[0])
    for kind in KINDS:
        fastest = min(rounds, key=lambda r: statistics.median(r["cpu"][kind]))
        best["cpu"] = {**best["cpu"], kind: fastest["cpu"][kind]}
        best["queries"] = {**best["queries"], kind: fastest["queries"][kind]}
    if len({r["digest"] for r in rounds}) != 1:
        best["digest"] = "rounds differ"
    return best


def _run(root: Path, options: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--root", str(root), *options],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
