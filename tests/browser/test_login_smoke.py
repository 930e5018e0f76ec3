"""In a real browser: the demo instructor logs in and lands on the course's staff home."""

from __future__ import annotations

import pytest

from courseapp.demo.services import DEMO_PASSWORD, demo_seed

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_the_demo_instructor_logs_in_and_sees_the_course(page, live_server, transactional_db):
    demo_seed()

    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("instructor")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.shot("login")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/courses/pmldl/")
    page.shot("course")

    assert page.locator("h1").text_content() == "Practical Machine Learning and Deep Learning"
    assert "Instructor" in page.locator("p.muted").first.text_content()
    assert page.get_by_role("heading", name="Grading queue").is_visible()
    page.get_by_role("navigation", name="pmldl sections").get_by_role("link", name="People").click()
    page.wait_for_url(f"{live_server.url}/courses/pmldl/about/")
    assert page.get_by_role("cell", name="Convolutional neural networks").is_visible()
    assert page.get_by_text("People (22)").is_visible()
    assert page.console_errors == []


def test_a_wrong_password_is_refused_in_the_browser(page, live_server, transactional_db):
    demo_seed()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("instructor")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    assert page.get_by_role("alert").text_content().startswith("Your username and password")


def test_the_api_docs_render_from_the_sites_own_files(page, live_server, transactional_db):
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/api/docs/")
    page.get_by_text("PMLDL course grading API").first.wait_for()
    page.shot("api-docs")

    assert page.get_by_text("/api/courses/{course_code}/enrollments/").first.is_visible()
    assert all(url.startswith(live_server.url) for url in requested), requested
    assert page.console_errors == []
