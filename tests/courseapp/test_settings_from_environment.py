"""Settings come from the environment, with defaults that work on a fresh machine.

Settings are read once per process, so each case runs in a subprocess with a chosen environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from courseapp.config import queued_sqlite3

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "".join(chr(ord("a") + i % 26) for i in range(60))
PRINT_SETTINGS = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "debug": settings.DEBUG,
    "broker": settings.CELERY_BROKER_URL, "backend": settings.CELERY_RESULT_BACKEND,
    "broker_options": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "secret": settings.SECRET_KEY, "media": str(settings.MEDIA_ROOT),
    "secure_cookies": settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE,
    "allowed_hosts": settings.ALLOWED_HOSTS, "serializer": settings.CELERY_TASK_SERIALIZER,
    "accept": settings.CELERY_ACCEPT_CONTENT,
    "prefetch": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
    "queues": [q.name for q in settings.CELERY_TASK_QUEUES],
    "track_started": settings.CELERY_TASK_TRACK_STARTED,
}))
"""
CONFIG_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "MEDIA_ROOT",
    "VAR_DIR",
    "STORAGE_URL",
    "DJANGO_SETTINGS_MODULE",
)


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env.update(overrides)
    return env


def settings_in(env: dict[str, str]) -> dict:
    code = "import django, os; "
    code += "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'courseapp.config.settings')"
    code += "; django.setup()\n" + PRINT_SETTINGS
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_defaults_to_sqlite_and_the_embedded_redis_broker_under_var(tmp_path):
    found = settings_in(clean_env(VAR_DIR=str(tmp_path)))

    assert found["engine"] == queued_sqlite3.ENGINE  # Django's SQLite, its writers queued
    assert found["name"] == str(tmp_path / "db.sqlite3")
    # Redis, as in production, on a Unix socket of this VAR_DIR: no port two checkouts share.
    assert found["broker"] == found["backend"] == f"redis+socket://{tmp_path}/redis/redis.sock"
    assert (tmp_path / "redis").is_dir()
    assert found["media"] == str(tmp_path / "media")
    assert found["debug"] is True


def test_it_generates_a_secret_key_once_and_keeps_it(tmp_path):
    first = settings_in(clean_env(VAR_DIR=str(tmp_path)))["secret"]
    second = settings_in(clean_env(VAR_DIR=str(tmp_path)))["secret"]

    assert len(first) >= 50
    assert first == second
    assert (tmp_path / "secret_key").read_text() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_it_reads_database_and_redis_urls(tmp_path):
    found = settings_in(
        clean_env(
            VAR_DIR=str(tmp_path),
            DATABASE_URL="postgres://postgres@127.0.0.1:5432/somedb",
            REDIS_URL="redis://127.0.0.1:6379/3",
            MEDIA_ROOT=str(tmp_path / "uploads"),
        )
    )

    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "somedb"
    assert found["broker"] == found["backend"] == "redis://127.0.0.1:6379/3"
    assert found["media"] == str(tmp_path / "uploads")


def test_a_sqlite_url_gets_the_queued_backend_too(tmp_path):
    found = settings_in(clean_env(VAR_DIR=str(tmp_path), DATABASE_URL="sqlite:////srv/x.sqlite3"))

    assert (found["engine"], found["name"]) == (queued_sqlite3.ENGINE, "/srv/x.sqlite3")


def test_it_configures_celery_for_json_two_queues_and_prefetch_one(tmp_path):
    found = settings_in(clean_env(VAR_DIR=str(tmp_path)))

    assert found["serializer"] == "json"
    assert found["accept"] == ["json"]
    assert found["queues"] == ["default", "gpu", "maintenance"]  # the last for beat's tasks
    assert found["prefetch"] == 1
    assert found["track_started"] is True


def test_it_is_production_safe_with_debug_off(tmp_path):
    found = settings_in(
        clean_env(
            VAR_DIR=str(tmp_path),
            DEBUG="0",
            SECRET_KEY=STRONG_KEY,
            ALLOWED_HOSTS="grades.example.org",
        )
    )

    assert found["debug"] is False
    assert found["secure_cookies"] is True
    assert found["allowed_hosts"] == ["grades.example.org"]
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "0", "ALLOWED_HOSTS": "x.org"}, "SECRET_KEY must be set when DEBUG is off"),
        ({"DEBUG": "0", "SECRET_KEY": STRONG_KEY}, "ALLOWED_HOSTS must be set when DEBUG is off"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "mongodb://db/x"}, "unknown scheme 'mongodb'"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "is not PostgreSQL or SQLite"),
        ({"DATABASE_URL": "postgres://user:hunter2@localhost"}, "names no database"),
    ],
)
def test_it_refuses_a_bad_setting_with_a_clear_message(tmp_path, env, message):
    done = manage(clean_env(VAR_DIR=str(tmp_path), **env), "check")

    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert "hunter2" not in done.stderr


@pytest.mark.parametrize(
    "key",
    [
        "x",
        "x" * 60,  # long, but one character
        "abcd" * 20,  # four different characters
        STRONG_KEY[:49],  # one short of Django's minimum
        "django-insecure-" + STRONG_KEY,  # startproject's marker of a development key
    ],
)
def test_it_refuses_a_weak_secret_key_with_debug_off(tmp_path, key):
    env = clean_env(VAR_DIR=str(tmp_path), DEBUG="0", SECRET_KEY=key, ALLOWED_HOSTS="x.org")

    done = manage(env, "check")

    assert done.returncode != 0
    assert "SECRET_KEY is too weak for DEBUG=0" in done.stderr
    assert "at least 50" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert len(key) < 10 or key not in done.stderr  # the secret itself is never echoed


def test_a_short_secret_key_is_accepted_in_development(tmp_path):
    found = settings_in(clean_env(VAR_DIR=str(tmp_path), SECRET_KEY="dev"))

    assert found["secret"] == "dev"


def test_an_empty_variable_counts_as_unset(tmp_path):
    found = settings_in(clean_env(VAR_DIR=str(tmp_path), DEBUG="", DATABASE_URL="", REDIS_URL=""))

    assert found["debug"] is True
    assert found["engine"] == queued_sqlite3.ENGINE  # Django's SQLite, its writers queued
    assert found["broker"].startswith("redis+socket://")


def test_an_empty_secret_key_file_is_reported(tmp_path):
    (tmp_path / "secret_key").write_text("")

    done = manage(clean_env(VAR_DIR=str(tmp_path)), "check")

    assert done.returncode != 0
    assert "secret_key is empty; delete it" in done.stderr


@pytest.mark.parametrize("variable", ["MEDIA_ROOT", "STATIC_ROOT"])
def test_it_says_clearly_when_an_upload_or_static_folder_is_not_writable(tmp_path, variable):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    done = manage(clean_env(VAR_DIR=str(tmp_path), **{variable: str(blocker)}), "check")

    assert done.returncode != 0
    assert f"point {variable} at a directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_it_says_clearly_when_var_is_not_writable(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    done = manage(clean_env(VAR_DIR=str(blocker / "var")), "check")

    assert done.returncode != 0
    assert f"{blocker / 'var'} is not a writable directory" in done.stderr
    assert "VAR_DIR" in done.stderr
    assert "Traceback" not in done.stderr


def test_it_says_clearly_when_the_database_cannot_be_reached(tmp_path):
    env = clean_env(VAR_DIR=str(tmp_path), DATABASE_URL="postgres://app:secret@127.0.0.1:9/nodb")

    done = manage(env, "migrate")

    assert done.returncode != 0
    assert "Database error with DATABASE_URL=postgres://app:***@127.0.0.1:9/nodb" in done.stderr
    assert "Traceback" not in done.stderr
    assert "secret" not in done.stderr
