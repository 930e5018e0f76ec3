"""Processes that play separate machines on this one: a web server and Celery workers, each with its
own ``VAR_DIR`` and ``MEDIA_ROOT``, sharing only PostgreSQL, Redis and (when given) a bucket.

Each process runs in a mount namespace of its own (``unshare --mount``) in which a tmpfs covers
every other process's directory and the checkout's ``var/``, so a file one of them reads from
another's disk is simply not there; and in a UTS namespace of its own, so each has its own host
name (the one a grading run records). What is missing here (PostgreSQL, Redis, namespaces) skips
the tests that need it, or fails them with ``REQUIRE_MULTIHOST_TESTS=1`` (CI).
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from courseapp.config.env import redact_url

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = "courseapp.config.test_settings"  # the real settings, with a fast password hasher
# What this process's own configuration says about files, secrets and services: never handed on,
# so each role states its own and nothing leaks from the test session into a "machine".
NOT_INHERITED = (
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE_URL",
    "VAR_DIR",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "TEST_RUN_ID",
    "DJANGO_SETTINGS_MODULE",
)


def unavailable(reason: str):
    """Skip for a missing service; with REQUIRE_MULTIHOST_TESTS set (CI), fail instead."""
    if os.environ.get("REQUIRE_MULTIHOST_TESTS"):
        pytest.fail(f"{reason} REQUIRE_MULTIHOST_TESTS is set, so this is an error.")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Services shared by every "machine".


def postgres_server() -> str:
    """The PostgreSQL server to make a database on, as a URL without one: DATABASE_URL's when it
    names PostgreSQL (CI's), else the local one (127.0.0.1:5432, user postgres)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        return f"postgres://{parts.netloc}"
    return "postgres://postgres@127.0.0.1:5432"


@dataclass
class Database:
    server: str
    name: str

    @property
    def url(self) -> str:
        return f"{self.server}/{self.name}"

    def query(self, sql: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=10) as connection:
            return connection.execute(sql, params).fetchall()


def fresh_postgres_database() -> Database:
    """A new, empty database on the PostgreSQL server, or a skip saying why there is none."""
    import psycopg

    database = Database(postgres_server(), f"twohost_{uuid.uuid4().hex[:10]}")
    try:
        with psycopg.connect(
            f"{database.server}/postgres", autocommit=True, connect_timeout=5
        ) as connection:
            connection.execute(f'CREATE DATABASE "{database.name}"')
    except psycopg.OperationalError as exc:
        unavailable(
            f"PostgreSQL not reachable at {redact_url(database.server)} ({exc}): the two-host "
            "test shares only PostgreSQL, Redis and the bucket (SQLite is one machine's file)."
        )
    return database


def drop_database(database: Database) -> None:
    import psycopg

    with psycopg.connect(
        f"{database.server}/postgres", autocommit=True, connect_timeout=5
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


def reachable_redis_url() -> str:
    """REDIS_URL when set, else the local Redis on 127.0.0.1:6379 if it answers. (The embedded
    server listens on a Unix socket of one machine's VAR_DIR: not something machines share.)"""
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis not reachable at {url} ({exc}): the machines share it as broker.")
    return url


def require_namespaces(scratch: Path) -> None:
    """What ``Machine.isolated`` does (a host name, a tmpfs over a directory, in namespaces of
    its own), tried once on ``scratch``: it needs util-linux's ``unshare`` and root."""
    probe = Machine("probe", scratch, hide=[scratch])
    try:
        result = probe.run(["true"], env=dict(os.environ), timeout=60)
    except FileNotFoundError as exc:
        unavailable(f"`unshare` not found ({exc}); install util-linux.")
    if result.returncode != 0:
        unavailable(
            f"No mount and UTS namespaces here ({result.stderr.strip() or result.returncode}): "
            "the two-host test hides each process's directories from the others with them."
        )


# One "machine": a directory of its own, seen by it alone.


@dataclass
class Machine:
    """A role's own directories and host name; ``hide`` is what its namespace covers."""

    name: str
    home: Path
    hide: list[Path] = field(default_factory=list)

    @property
    def var_dir(self) -> Path:
        return self.home / "var"

    @property
    def media_root(self) -> Path:
        return self.home / "media"

    def isolated(self, argv: list[str]) -> list[str]:
        """``argv`` run in this machine's own mount and UTS namespaces: a tmpfs over each hidden
        directory, this machine's host name, then ``exec`` (so the process's pid is argv's)."""
        steps = [f"hostname {shlex.quote(self.name)}"]
        steps += [
            f"mount -t tmpfs -o size=1m,mode=0700 hidden-from-{self.name} {shlex.quote(str(path))}"
            for path in self.hide
        ]
        steps.append(f"exec {shlex.join(argv)}")
        namespaces = ["unshare", "--mount", "--uts", "--propagation", "private"]
        return [*namespaces, "sh", "-ec", " && ".join(steps)]

    def run(self, argv: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.isolated(argv), cwd=ROOT, env=env, capture_output=True, text=True, **kwargs
        )


def machines(base: Path, names: list[str], *, hidden: list[Path]) -> dict[str, Machine]:
    """A machine per name under ``base``, each hiding the others' homes, ``hidden`` (the test's own
    directories: logs) and the checkout's var/ (the test session's database, broker socket, media
    and secret key)."""
    homes = {name: base / name for name in names}
    for home in homes.values():
        (home / "var").mkdir(parents=True)
        (home / "media").mkdir()
    checkout_var = ROOT / "var"
    checkout_var.mkdir(exist_ok=True)
    return {
        name: Machine(
            name, home, hide=[h for n, h in homes.items() if n != name] + [*hidden, checkout_var]
        )
        for name, home in homes.items()
    }


def role_env(machine: Machine, *, shared: dict[str, str], run_id: str) -> dict[str, str]:
    """The environment of one role: the shared services, this machine's own directories."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    return {
        **env,
        **shared,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "VAR_DIR": str(machine.var_dir),
        "MEDIA_ROOT": str(machine.media_root),
        "TEST_RUN_ID": run_id,  # the broker's key prefix: this test's messages only
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self, tail: int = 4000) -> str:
        return f"--- {self.name} log ---\n{self.log_path.read_text(errors='replace')[-tail:]}"

    def terminate(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()  # a warm shutdown for Celery, a graceful one for gunicorn

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start(machine: Machine, argv: list[str], env: dict, logs: Path) -> Process:
    log_path = logs / f"{machine.name}.log"
    with log_path.open("w") as log:
        popen = subprocess.Popen(
            machine.isolated(argv), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    return Process(machine.name, popen, log_path)


def manage(machine: Machine, env: dict, *args: str, timeout: float = 300) -> str:
    result = machine.run(
        [sys.executable, "manage.py", *args], env=env, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def web_server(machine: Machine, env: dict, logs: Path, port: int) -> Process:
    """gunicorn, as production runs the site (``courseapp.config.wsgi``)."""
    argv = [sys.executable, "-m", "gunicorn", "courseapp.config.wsgi:application"]
    argv += ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "120"]
    argv += ["--access-logfile", "-", "--error-logfile", "-"]
    return start(machine, argv, env, logs)


def celery_worker(machine: Machine, env: dict, logs: Path, queues: list[str]) -> Process:
    """A grading worker on ``queues``, named ``<machine>@<machine>`` (its own host name)."""
    argv = [sys.executable, "-m", "celery", "-A", "courseapp.config", "worker"]
    argv += ["--queues", ",".join(queues), "--pool", "solo", "--concurrency", "1"]
    argv += ["--hostname", f"{machine.name}@%h", "--without-gossip", "--without-mingle"]
    argv += ["--loglevel", "INFO"]
    return start(machine, argv, env, logs)


def wait_until(check, *, what: str, processes: list[Process], timeout: float = 180):
    """Poll ``check()`` until it returns something truthy; fail with every log when a process
    exits or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        for process in processes:
            if process.popen.poll() is not None:
                logs = "\n".join(p.log() for p in processes)
                raise AssertionError(f"{process.name} exited while waiting for {what}:\n{logs}")
        time.sleep(0.3)
    logs = "\n".join(p.log() for p in processes)
    raise AssertionError(f"no {what} within {timeout} s:\n{logs}")


def seed() -> None:
    """Run in the web's ``manage.py shell``: a course, a student with a password, and the ReLU
    assignment twice, once wanting a GPU. Imported through the web's storage, as staff would."""
    from autograder.services.assignments import assignment_import
    from courseapp.courses.models import Role
    from grading.services.schemes import grading_scheme_create
    from tests.autograder.nbfactory import source_bytes
    from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
    from tests.grading.conftest import LETTERS, SLIDES

    course = CourseFactory(code="pmldl")
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    EnrollmentFactory(course=course, user=UserFactory(username="student"), role=Role.STUDENT)
    files = {"a1.ipynb": source_bytes(), "data.csv": b"x,y\n1,2\n"}
    assignment_import(course=course, slug="relu", title="ReLU", files=files)
    on_gpu = assignment_import(course=course, slug="relu-gpu", title="ReLU on a GPU", files=files)
    on_gpu.wants_gpu = True
    on_gpu.save(update_fields=["wants_gpu"])
