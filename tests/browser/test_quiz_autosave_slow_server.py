"""Autosave against a slow or failing server, in a real browser (issue 19): the saves go through
Playwright's ``page.route``, which drops them, holds them, or lets them through. The page must say
"Not saved yet" while the server has not confirmed the newest answer, retry, never mark a newer
answer saved on the reply to an older one, make submit wait for the pending answers, and end
with the server holding exactly the newest answers typed."""

from __future__ import annotations

import json
import time

import pytest

from courseapp.quizzes import attempts
from courseapp.quizzes.models import Attempt, Question
from courseapp.quizzes.selectors import current_answers
from tests.browser.test_quiz_in_the_browser import log_in, start
from tests.quizzes.conftest import lecture, scheme, week1  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.usefixtures("week1", "student")]

SAVES = "**/answers/*/"
DEADLINE_S = 60  # generous: a loaded 2-core machine


def until(page, condition, what: str) -> None:
    """Let the browser run until ``condition()`` holds (Playwright handles routes only while the
    test waits on it), failing with ``what`` after a generous deadline."""
    end = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        page.wait_for_timeout(50)


# Every text a question's save state shows, in order (window.saveStates), for states that pass
# faster than a test can look.
HISTORY = """slug => {
  const el = document.querySelector(`fieldset[data-question="${slug}"] .save-state`);
  window.saveStates = [];
  new MutationObserver(() => window.saveStates.push(el.textContent))
    .observe(el, {childList: true, characterData: true, subtree: true});
}"""


def state_of(page, slug: str):
    return page.locator(f'fieldset[data-question="{slug}"] .save-state')


def held(attempt: Attempt) -> dict[str, object]:
    """The answers the server holds now, by question slug."""
    answers = current_answers(attempt=Attempt.objects.get(pk=attempt.pk))
    return {q.slug: answers[q.pk] for q in Question.objects.filter(pk__in=answers)}


def sent_value(request) -> object:
    return json.loads(request.post_data)["value"]


def test_dropped_saves_say_not_saved_yet_retry_with_the_newest_answer_and_submit_waits(
    page, live_server, transactional_db
):
    log_in(page, live_server, "student")
    start(page, live_server)
    dropped, passed = [], []
    lifted = False

    def server(route, request):
        if request.method != "PUT" or lifted:
            passed.append(sent_value(request) if request.method == "PUT" else None)
            route.continue_()
            return
        dropped.append((request.url.rsplit("/", 2)[-2], sent_value(request)))
        route.abort("connectionreset")

    page.route(SAVES, server)
    page.locator('input[name="q-dropout"]').fill("underfit")
    state_of(page, "dropout").filter(has_text="Not saved yet: no connection").wait_for()
    assert "Retrying in" in state_of(page, "dropout").text_content()
    assert "1 answer not saved yet" in page.locator("#save-summary").text_content()

    # Typed while the retries fail: the next retry carries this one, never the older.
    page.locator('input[name="q-dropout"]').fill("overfitting")
    page.locator('textarea[name="q-why"]').fill("Needs a lot of labelled data.")
    until(
        page,
        lambda: ("dropout", "overfitting") in dropped and len(dropped) >= 4,
        "retries of the newest answers",
    )
    after_newest = dropped[dropped.index(("dropout", "overfitting")) :]
    assert ("dropout", "underfit") not in after_newest

    page.get_by_role("button", name="Submit now").click()  # waits: nothing is saved
    page.locator("#save-summary").filter(has_text="Submitting as soon as").wait_for()
    page.shot("waiting-to-submit")
    assert page.url.endswith("/attempts/1/")
    assert Attempt.objects.get().state == "open"
    assert "Not saved yet" in state_of(page, "why").text_content()
    assert held(Attempt.objects.get()) == {}

    # The page warns before leaving while answers are not saved.
    warned = page.evaluate(
        "(() => { const e = new Event('beforeunload', {cancelable: true});"
        " window.dispatchEvent(e); return e.defaultPrevented; })()"
    )
    assert warned

    lifted = True  # the server is back: the retries save, then the page submits by itself
    page.get_by_text("Your answers are in.").wait_for(timeout=DEADLINE_S * 1000)
    page.shot("submitted")
    attempt = Attempt.objects.get()
    assert attempt.state == "submitted"
    assert held(attempt) == {"dropout": "overfitting", "why": "Needs a lot of labelled data."}
    assert "underfit" not in passed


def test_a_late_reply_to_an_older_save_does_not_mark_the_newer_answer_saved(
    page, live_server, transactional_db
):
    log_in(page, live_server, "student")
    start(page, live_server)
    waiting = []  # (route, value): saves the server has not seen yet

    page.route(SAVES, lambda route, request: waiting.append((route, sent_value(request))))
    box = page.locator('input[name="q-dropout"]')
    box.fill("underfitting")
    until(page, lambda: len(waiting) == 1, "the first save")
    box.fill("overfitting")
    state_of(page, "dropout").filter(has_text="Not saved yet").wait_for()
    page.wait_for_timeout(1500)  # past the typing pause: still one save in flight per question
    assert [value for _, value in waiting] == ["underfitting"]

    route, _ = waiting.pop()
    route.continue_()  # the older save reaches the server late, and its reply comes back
    until(page, lambda: len(waiting) == 1, "the newest answer sent after the older reply")
    assert waiting[0][1] == "overfitting"
    assert not state_of(page, "dropout").text_content().startswith("Saved")
    assert held(Attempt.objects.get()) == {"dropout": "underfitting"}

    waiting.pop()[0].continue_()
    state_of(page, "dropout").filter(has_text="Saved at").wait_for()
    text = state_of(page, "dropout").text_content()
    assert text[len("Saved at ") :].count(":") == 2, text  # hh:mm:ss
    assert held(Attempt.objects.get()) == {"dropout": "overfitting"}
    page.locator("#save-summary").filter(has_text="All answers saved").wait_for()


def test_a_save_without_reply_times_out_and_is_retried(page, live_server, transactional_db):
    page.clock.install()  # the 30 s timeout and the backoff, run fast
    log_in(page, live_server, "student")
    start(page, live_server)
    held_back, passed = [], []

    def server(route, request):
        if request.method == "PUT" and not held_back:
            held_back.append(route)  # never answered
            return
        passed.append(request)
        route.continue_()

    page.route(SAVES, server)
    page.evaluate(HISTORY, "adam")
    page.get_by_label("True").check()
    until(page, lambda: held_back, "the first save")
    assert state_of(page, "adam").text_content() == "Saving…"
    page.clock.run_for(35_000)  # past the timeout, and the first retry comes within a second
    state_of(page, "adam").filter(has_text="Saved at").wait_for()
    history = page.evaluate("window.saveStates")
    assert any(
        text.startswith("Not saved yet: the server did not answer in time") for text in history
    )
    assert len(passed) == 1
    assert held(Attempt.objects.get()) == {"adam": True}


def test_when_the_time_is_up_the_pending_answers_are_saved_before_the_page_submits(
    page, live_server, transactional_db
):
    page.clock.install()  # the page's countdown and backoff run fast; the server's deadline not
    log_in(page, live_server, "student")
    start(page, live_server)
    lifted = False

    def server(route, request):
        if request.method == "PUT" and not lifted:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(SAVES, server)
    page.locator('input[name="q-dropout"]').fill("overfitting")
    state_of(page, "dropout").filter(has_text="Not saved yet: no connection").wait_for()
    page.clock.run_for(10 * 60_000 - 15_000)  # the page's ten minutes, nearly
    alert = page.get_by_role("alert").filter(has_text="Time is up")
    for _ in range(60):
        if alert.is_visible():
            break
        page.clock.run_for(1_000)
    # The grace's 25 s have not begun. One second ahead of the page's clock: installed, it flows
    # with real time, and on a loaded machine it had passed the instant read here by the time
    # pause_at reached it ("Cannot fast-forward to the past"); the page's own timers due within
    # that second are its countdown's ticks and the dropped save's retry.
    page.clock.pause_at(page.evaluate("Date.now() + 1000") / 1000)
    assert alert.is_visible()
    assert page.locator('input[name="q-dropout"]').is_disabled()
    assert Attempt.objects.get().state == "open"  # waits for the answer not saved yet

    lifted = True
    page.clock.run_for(10_000)  # the retries start afresh at time up: one comes within 4 s
    page.get_by_text("Your answers are in.").wait_for(timeout=DEADLINE_S * 1000)
    attempt = Attempt.objects.get()
    assert attempt.state == "submitted"
    assert held(attempt) == {"dropout": "overfitting"}


def test_after_a_reload_or_a_higher_save_elsewhere_the_newest_typed_answer_is_held(
    page, live_server, transactional_db
):
    """Each save carries its version. A reloaded page counts on from the version the server
    holds; when another tab saved a higher one, the server answers "superseded" and the page
    sends its own answer again, numbered above it."""
    log_in(page, live_server, "student")
    start(page, live_server)
    sent = []

    def server(route, request):
        sent.append(json.loads(request.post_data)["version"])
        route.continue_()

    page.route(SAVES, server)
    box = page.locator('input[name="q-dropout"]')
    box.fill("underfit")
    state_of(page, "dropout").filter(has_text="Saved at").wait_for()
    page.reload()
    page.locator('input[name="q-dropout"]').fill("overfit")
    state_of(page, "dropout").filter(has_text="Saved at").wait_for()
    assert sent == [1, 2]

    attempt = Attempt.objects.get()
    dropout = Question.objects.get(slug="dropout")
    other_tab = attempts.answer_save(attempt=attempt, question=dropout, value="x", version=5)
    assert other_tab.accepted and held(attempt) == {"dropout": "x"}
    page.locator('input[name="q-dropout"]').fill("overfitting")
    until(page, lambda: len(sent) == 4, "the save sent again above the held version")
    state_of(page, "dropout").filter(has_text="Saved at").wait_for()
    assert sent == [1, 2, 3, 6]
    assert held(attempt) == {"dropout": "overfitting"}
