"""Password guessing is refused: after repeated failures a login is blocked, even with the right
password, on the login page, the admin's login and the API's token endpoint; counted per username
(from any address) and per address (for any username); told clearly; over after the cool-off or
when staff unlock it in the admin."""

from __future__ import annotations

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory

LIMIT = settings.AXES_FAILURE_LIMIT
LOGIN_PAGES = ["/accounts/login/", "/admin/login/"]


def _log_in(client, path: str, username: str, password: str, address: str):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, path, db):
    UserFactory(username="victim", is_staff=True)

    for attempt in range(30):
        _log_in(client, path, "victim", f"guess-{attempt}", "198.51.100.7")
    answer = _log_in(client, path, "victim", PASSWORD, "198.51.100.7")

    assert answer.status_code == 429
    assert not _logged_in(client)
    text = answer.content.decode()
    assert (
        "Too many failed logins" in text
        and f"{settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in text
    )


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_guessing_from_a_new_address_each_time_is_still_refused(client, path, db):
    UserFactory(username="victim", is_staff=True)

    for attempt in range(LIMIT):
        _log_in(client, path, "victim", f"guess-{attempt}", f"198.51.100.{attempt + 1}")
    answer = _log_in(client, path, "victim", PASSWORD, "203.0.113.99")

    assert answer.status_code == 429 and not _logged_in(client)


def test_one_address_trying_many_accounts_is_refused(client, db):
    for number in range(LIMIT):
        UserFactory(username=f"user{number}")
        _log_in(client, "/accounts/login/", f"user{number}", "password1", "198.51.100.8")
    UserFactory(username="next")

    answer = _log_in(client, "/accounts/login/", "next", PASSWORD, "198.51.100.8")

    assert answer.status_code == 429 and not _logged_in(client)


def test_a_few_typos_do_not_lock_anyone_out_and_others_are_not_affected(client, db):
    UserFactory(username="typist")
    UserFactory(username="victim")
    for attempt in range(LIMIT - 1):
        _log_in(client, "/accounts/login/", "typist", f"typo-{attempt}", "198.51.100.9")
    assert (
        _log_in(client, "/accounts/login/", "typist", PASSWORD, "198.51.100.9").status_code == 302
    )
    client.logout()
    for attempt in range(LIMIT):
        _log_in(client, "/accounts/login/", "victim", f"guess-{attempt}", "198.51.100.10")

    answer = _log_in(client, "/accounts/login/", "typist", PASSWORD, "198.51.100.11")

    assert answer.status_code == 302 and _logged_in(client)


def test_the_api_token_endpoint_is_locked_too(client, db, throttle_key):
    UserFactory(username="victim")

    for attempt in range(30):
        client.post(
            "/api/auth/token/",
            {"username": "victim", "password": f"guess-{attempt}"},
            REMOTE_ADDR=f"192.0.2.{attempt + 1}",  # one address each: apart from the throttle
        )
        throttle_key(f"192.0.2.{attempt + 1}")
    throttle_key("203.0.113.5")
    answer = client.post(
        "/api/auth/token/", {"username": "victim", "password": PASSWORD}, REMOTE_ADDR="203.0.113.5"
    )

    assert answer.status_code == 429
    assert "token" not in answer.json() and "Too many failed logins" in answer.json()["detail"]


def test_the_lockout_ends_after_the_cool_off(client, db):
    UserFactory(username="victim")
    for attempt in range(LIMIT):
        _log_in(client, "/accounts/login/", "victim", f"guess-{attempt}", "198.51.100.12")
    assert (
        _log_in(client, "/accounts/login/", "victim", PASSWORD, "198.51.100.12").status_code == 429
    )

    past = timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    answer = _log_in(client, "/accounts/login/", "victim", PASSWORD, "198.51.100.12")

    assert answer.status_code == 302 and _logged_in(client)


def test_staff_unlock_an_account_in_the_admin(client, admin_client, db):
    UserFactory(username="victim")
    for attempt in range(LIMIT):
        _log_in(client, "/accounts/login/", "victim", f"guess-{attempt}", "198.51.100.13")
    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "victim" in listing.content.decode()

    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    answer = _log_in(client, "/accounts/login/", "victim", PASSWORD, "198.51.100.13")

    assert not AccessAttempt.objects.exists()
    assert answer.status_code == 302 and _logged_in(client)
