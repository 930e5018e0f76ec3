"""Taking a quiz in a real browser: answers autosave and survive a reload, a save after the
deadline is refused on the page with the reason, and the countdown submits the attempt by itself.
The deadline is moved in the database instead of waiting ten minutes."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from courseapp.quizzes.models import AnswerSave, Attempt
from tests.factories import PASSWORD
from tests.quizzes.conftest import lecture, scheme, week1  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.usefixtures("week1", "student")]


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def start(page, live_server) -> None:
    page.goto(f"{live_server.url}/courses/pmldl/quizzes/week1/")
    page.get_by_role("button", name="Start attempt 1").click()
    page.wait_for_url("**/attempts/1/")


def saved(page, slug: str, text: str = "Saved"):
    """The question's save state, once it says ``text`` (a new change first says "Not saved
    yet", then "Saving…", then what the server answered)."""
    state = page.locator(f'fieldset[data-question="{slug}"] .save-state')
    state.filter(has_text=text).wait_for()
    return state


def test_answers_autosave_survive_a_reload_and_a_late_one_is_refused(
    page, live_server, transactional_db
):
    log_in(page, live_server, "student")
    start(page, live_server)
    page.shot("started")

    page.locator('input[name="q-gd"]').fill("-eta*dR/dtheta + theta")
    saved(page, "gd")
    page.get_by_label("ReLU").check()
    saved(page, "relu")
    page.locator('input[name="q-gd"]').fill("2theta")  # cannot be read: saved, with a warning
    assert saved(page, "gd", "write products with *").text_content().startswith("Saved")
    page.locator('input[name="q-gd"]').fill("theta - eta*dR/dtheta")
    page.wait_for_function(
        "document.querySelector('fieldset[data-question=\"gd\"] .save-state')"
        ".textContent.match(/^Saved [^.]*$/)"
    )
    page.shot("saved")

    page.reload()
    assert page.locator('input[name="q-gd"]').input_value() == "theta - eta*dR/dtheta"
    assert page.get_by_label("ReLU").is_checked()

    Attempt.objects.update(deadline=timezone.now() - datetime.timedelta(seconds=31))
    page.locator('input[name="q-dropout"]').fill("overfitting")
    refused = page.locator('fieldset[data-question="dropout"] .save-state')
    refused.filter(has_text="after the deadline").wait_for()
    page.shot("refused")

    assert refused.text_content().startswith("Not saved: this answer arrived at")
    assert page.get_by_role("alert").text_content().startswith("This attempt is closed")
    assert page.locator('input[name="q-dropout"]').is_disabled()
    page.locator("#time-left").filter(has_text="closed").wait_for()  # the countdown stops
    accepted = AnswerSave.objects.filter(accepted=True, question__slug="gd")
    assert accepted.last().value == "theta - eta*dR/dtheta"
    assert not AnswerSave.objects.filter(accepted=True, question__slug="dropout").exists()
    assert page.console_errors == [] or all("409" in e for e in page.console_errors)


def test_the_countdown_submits_the_saved_answers_when_the_time_is_up(
    page, live_server, transactional_db
):
    log_in(page, live_server, "student")
    start(page, live_server)
    page.get_by_label("True").check()
    saved(page, "adam")
    Attempt.objects.update(deadline=timezone.now() + datetime.timedelta(seconds=3))

    page.reload()
    page.get_by_text("Your answers are in.").wait_for(timeout=60_000)
    page.shot("submitted")

    attempt = Attempt.objects.get()
    assert attempt.state == "submitted"
    assert attempt.grades.get(question__slug="adam").points == 1
