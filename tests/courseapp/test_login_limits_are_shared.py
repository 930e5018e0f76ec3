"""Login limits hold across processes (a site runs several web workers): failures another process
saw lock this one's login, and the API's token throttle counts every process's requests, through
the shared stores (the database, and the cache: Redis with REDIS_URL, else the database table).
A header the client writes cannot dodge the throttle either."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]
OTHER_PROCESS = """
import sys, django
django.setup()
from django.test import Client
path, username, password, count, address = sys.argv[1:4] + [int(sys.argv[4]), sys.argv[5]]
client = Client()
codes = [client.post(path, {"username": username, "password": password or f"guess-{n}"},
                     REMOTE_ADDR=address).status_code for n in range(count)]
print(" ".join(map(str, codes)))
"""


def _database_url() -> str:
    """The test database, as a URL another process can open."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _in_another_process(
    path: str, username: str, count: int, address: str, password: str = ""
) -> list[int]:
    """``count`` logins in a process of its own: with ``password``, or a new wrong one each."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "courseapp.config.test_settings"}
    env["DATABASE_URL"] = _database_url()  # TEST_RUN_ID is inherited: the same cache keys
    done = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, path, username, password, str(count), address],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [int(code) for code in done.stdout.split()]


@pytest.mark.django_db(transaction=True)
def test_failures_seen_by_another_process_lock_this_ones_login(client, settings):
    UserFactory(username="victim")
    limit = settings.AXES_FAILURE_LIMIT

    codes = _in_another_process("/accounts/login/", "victim", limit - 1, "198.51.100.30")
    last_guess = client.post(
        "/accounts/login/", {"username": "victim", "password": "x"}, REMOTE_ADDR="203.0.113.30"
    )
    answer = client.post(
        "/accounts/login/", {"username": "victim", "password": PASSWORD}, REMOTE_ADDR="203.0.113.30"
    )

    assert codes == [200] * (limit - 1)  # wrong passwords, not locked yet over there
    assert last_guess.status_code == 429  # the limit, counted over both processes
    assert answer.status_code == 429 and "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)
def test_the_token_throttle_counts_another_processes_requests(client, throttle_key):
    UserFactory(username="someone")
    throttle_key("198.51.100.31")

    codes = _in_another_process("/api/auth/token/", "someone", 20, "198.51.100.31", PASSWORD)
    answer = client.post(
        "/api/auth/token/",
        {"username": "someone", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.31",
    )

    assert codes == [200] * 20  # 20 a minute from one address, all given a token
    assert answer.status_code == 429 and "throttled" in answer.json()["detail"]


def test_a_forged_forwarded_for_header_does_not_dodge_the_throttle(client, db, throttle_key):
    UserFactory(username="someone")
    throttle_key("198.51.100.32")

    codes = [
        client.post(
            "/api/auth/token/",
            {"username": "someone", "password": PASSWORD},
            REMOTE_ADDR="198.51.100.32",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(25)
    ]

    assert codes[:20] == [200] * 20 and set(codes[20:]) == {429}
