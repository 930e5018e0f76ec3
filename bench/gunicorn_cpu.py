"""gunicorn settings for ``bench/quiz_burst.py``: the site's own (``courseapp.config.gunicorn``)
and, added, each worker thread's CPU time per request (``time.thread_time`` around the request,
in the thread that handles it), summed per kind of request and written at the worker's exit to
``BENCH_CPU_DIR/<pid>.json``. Only the bench loads this file; the site knows nothing of it."""

from __future__ import annotations

import json
import os
import threading
import time

from courseapp.config.gunicorn import post_worker_init  # noqa: F401 (a gunicorn hook)

_kinds: dict[str, list[float]] = {}
_lock = threading.Lock()
_began = threading.local()


def kind_of(method: str, path: str) -> str:
    """The bench's three kinds of request, from the method and the path."""
    if method == "PUT" and "/answers/" in path:
        return "save"
    if method == "POST" and path.endswith("/submit/"):
        return "submit"
    if method == "POST" and path.endswith("/attempts/"):
        return "start"
    return "other"


# (wall seconds, kind, CPU seconds, this process's request number, seconds in SQL statements)
_walls: list[tuple] = []


def _timed(execute, sql, params, many, context):
    began = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        _began.sql += time.perf_counter() - began


def pre_request(worker, req) -> None:
    from django.db import connection

    if _timed not in connection.execute_wrappers:
        connection.execute_wrappers.append(_timed)  # this thread's connection, for good
    _began.sql = 0.0
    _began.cpu = time.thread_time()
    _began.wall = time.perf_counter()


def post_request(worker, req, environ, resp) -> None:
    spent = time.thread_time() - getattr(_began, "cpu", time.thread_time())
    wall = time.perf_counter() - getattr(_began, "wall", time.perf_counter())
    kind = kind_of(req.method, req.path)
    with _lock:
        _kinds.setdefault(kind, []).append(spent)
        _walls.append((wall, kind, spent, len(_walls) + 1, getattr(_began, "sql", 0.0)))


def worker_exit(server, worker) -> None:
    folder = os.environ.get("BENCH_CPU_DIR")
    if folder:
        with _lock:
            data = dict(_kinds)
            data["_walls"] = _walls
        with open(os.path.join(folder, f"{os.getpid()}.json"), "w") as out:
            json.dump(data, out)
