"""Headless Chromium for browser tests, driven by Playwright.

Uses Debian's ``chromium`` (Playwright's own browser download does not work on these machines).
Without it the tests skip with a notice; with ``REQUIRE_BROWSER_TESTS=1`` (as ``.ci/run`` sets) a
missing browser fails the run instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if path is None:
        message = (
            "Chromium not found: browser tests skipped. Install it with "
            "`apt-get install chromium` (or set CHROMIUM_PATH) to run them."
        )
        if os.environ.get("REQUIRE_BROWSER_TESTS"):
            pytest.fail(message + " REQUIRE_BROWSER_TESTS is set, so this is an error.")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the Django test code around it is
    # still synchronous, so allow its database calls while the browser is up, and only then.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def page(chromium, request):
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.shot = lambda name: _screenshot(page, request.node.name, name)
    yield page
    context.close()


def _screenshot(page, test_name: str, step: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{test_name}-{step}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pytest_terminal_summary(terminalreporter):
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "Chromium not found" in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"NOTE: {len(skipped)} browser test(s) SKIPPED because Chromium is not installed "
            "(apt-get install chromium).",
            yellow=True,
            bold=True,
        )


# Whole journeys start from the demo course, as a newcomer does after `make run`.


@pytest.fixture
def demo(transactional_db):
    """The demo course (seed_demo without the admin): ``instructor``, ``ta``, ``student01``…"""
    from courseapp.demo.services import demo_seed

    return demo_seed(with_admin=False).course


@pytest.fixture
def log_in(page, live_server):
    """``log_in(username)``: log in through the login form and land where the site sends you."""
    from courseapp.demo.services import DEMO_PASSWORD

    def go(username: str, password: str = DEMO_PASSWORD) -> None:
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()

    return go


@pytest.fixture
def grading_worker(transactional_db, tmp_path):
    """A real Celery worker process on ``default`` and ``gpu``, reading the test database; the
    site's submissions reach it through the configured broker, as in production."""
    from tests.autograder.test_celery_worker import start_worker, stop_worker
    from tests.autograder.test_worker_grades_a_submission import database_url

    log = tmp_path / "worker.log"
    worker = start_worker(["default", "gpu"], log, DATABASE_URL=database_url())
    worker.log_path = log
    yield worker
    stop_worker(worker)
