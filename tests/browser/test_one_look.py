"""One look, in a real browser: the dashboards by role, at a phone's width, keyboard first.

On every page listed here, for a student and for staff: nothing is wider than a 390-pixel screen
(wide tables scroll in their own box), every input has a label, the first Tab reaches "Skip to
content", and the course's section bar marks where you are."""

from __future__ import annotations

import pytest

from autograder.models import Assignment

pytestmark = [pytest.mark.slow, pytest.mark.browser]

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => !['hidden', 'submit', 'button'].includes(el.type))
  .filter(el => !((el.labels && el.labels.length) || el.getAttribute('aria-label')
                  || el.getAttribute('aria-labelledby')))
  .map(el => el.outerHTML.slice(0, 120))"""
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"

STUDENT_PAGES = [
    "/courses/pmldl/",
    "/courses/pmldl/quizzes/",
    "/courses/pmldl/quizzes/week1/",
    "/courses/pmldl/assignments/",
    "/courses/pmldl/assignments/a1/",
    "/courses/pmldl/grades/",
    "/courses/pmldl/scheme/",
    "/courses/pmldl/about/",
]
STAFF_PAGES = [
    "/courses/pmldl/",
    "/courses/pmldl/gradebook/",
    "/courses/pmldl/gradebook/import/",
    "/courses/pmldl/extensions/",
    "/courses/pmldl/regrades/",
    "/courses/pmldl/scheme/",
    "/courses/pmldl/quizzes/",
    "/courses/pmldl/quizzes/week1/",
    "/courses/pmldl/quizzes/accommodations/",
    "/courses/pmldl/quizzes/import/",
    "/courses/pmldl/assignments/",
    "/courses/pmldl/assignments/a1/",
    "/courses/pmldl/assignments/a1/manual/",
    "/courses/pmldl/assignments/import/",
    "/courses/pmldl/gradebook/items/{item}/students/student01/",
    "/courses/pmldl/about/",
]


@pytest.fixture
def phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    return page


def check_pages(page, live_server, paths: list[str]) -> None:
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert page.evaluate(UNLABELLED) == [], path
        assert page.evaluate(OVERFLOW) <= 0, f"{path} is wider than the screen"
        assert page.locator('.course-nav [aria-current="page"]').count() == 1, path
    assert page.console_errors == []


def test_a_student_on_a_phone(phone, live_server, demo, log_in):
    log_in("student01")
    phone.wait_for_url(f"{live_server.url}/courses/pmldl/")
    phone.shot("student-dashboard-phone")

    home = phone.get_by_role("navigation", name="pmldl sections")
    assert home.get_by_role("link", name="Home").get_attribute("aria-current") == "page"
    assert phone.get_by_role("heading", name="Quizzes").is_visible()
    assert phone.get_by_role("link", name="Take the quiz").is_visible()
    assert phone.get_by_role("heading", name="My grade").is_visible()
    assert phone.get_by_role("link", name="See the breakdown").is_visible()
    assert phone.get_by_role("cell", name="A1: neural network basics").is_visible()
    assert "Grading workers" not in phone.content()

    phone.keyboard.press("Tab")
    skip = phone.get_by_role("link", name="Skip to content")
    assert skip.evaluate("el => el === document.activeElement")
    phone.keyboard.press("Enter")
    assert phone.evaluate("document.activeElement.id") == "content"

    check_pages(phone, live_server, STUDENT_PAGES)


def test_staff_on_a_phone(phone, live_server, demo, log_in):
    item = Assignment.objects.get(slug="a1").item_id
    log_in("ta")
    phone.wait_for_url(f"{live_server.url}/courses/pmldl/")
    phone.shot("staff-dashboard-phone")

    assert phone.get_by_role("heading", name="Grading queue").is_visible()
    assert phone.get_by_text("Nothing waits for you").is_visible()
    assert phone.get_by_role("heading", name="Grading workers").is_visible()
    assert phone.get_by_text("No worker has reported yet").is_visible()
    shortcuts = phone.get_by_role("navigation", name="Shortcuts")
    shortcuts.get_by_role("link", name="Extensions").click()
    phone.wait_for_url("**/extensions/")
    section = phone.get_by_role("navigation", name="pmldl sections")
    assert section.get_by_role("link", name="Extensions").get_attribute("aria-current") == "page"

    check_pages(phone, live_server, [p.format(item=item) for p in STAFF_PAGES])


def test_the_staff_dashboard_shows_a_live_worker(page, live_server, demo, log_in, grading_worker):
    log_in("instructor")
    row = page.get_by_role("row").filter(has_text="alive")
    for _ in range(60):  # the worker writes its first heartbeat once it is connected
        if row.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    page.shot("staff-dashboard-worker")

    from autograder.sandbox import isolation_level

    assert row.count() == 1
    assert isolation_level() in row.text_content()
    assert "default, gpu" in row.text_content()
    listening = page.get_by_role("row").filter(has=page.get_by_role("cell", name="gpu", exact=True))
    assert listening.get_by_role("cell").last.text_content().strip() == "1"
