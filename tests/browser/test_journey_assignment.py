"""Journeys 2 and 3 of issue 7, in a real browser against the demo course, with a real Celery
worker grading in the sandbox.

Journey 2: student01 downloads A1, submits it with one wrong function, watches the badge turn
"Graded" without reloading, reads the feedback that names the failing check and the mismatch,
resubmits the fixed notebook and sees the new score and the submissions left.

Journey 3: the TA grades A1's written answer and the week-1 quiz's free-text answer; the quiz
score reaches the gradebook only then; the TA publishes A1; student01's breakdown and item pages
show the new points.
"""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from autograder.models import Assignment, FileRole, Submission
from autograder.selectors import assignment_file
from autograder.services.intake import submission_create
from courseapp.quizzes import attempts as quiz_attempts
from courseapp.quizzes.models import Quiz
from grading.models import Score, Source
from tests.autograder.shipped import Shipped

pytestmark = [pytest.mark.slow, pytest.mark.browser]

A1 = Shipped("a1")
A1_TITLE = "A1: neural network basics"
QUIZ_TITLE = "Quiz 1: neural networks and training them"
GRADING = 240_000  # ms: a worker starting, a kernel importing torch in the sandbox, the checks
THE_QUESTION = "Why do ReLU, leaky ReLU and ELU train deep networks better than the sigmoid?"
ANSWER = (
    "The sigmoid saturates: its derivative is at most 1/4 and vanishes for large |x|, so the "
    "gradient shrinks layer after layer. ReLU's derivative is 1 for positive inputs."
)
# One wrong function: the L2 gradient step without its factor 2 (see tests/autograder/test_a1.py).
WRONG_L2_STEP = (
    "return theta - lr * (grad + 2 * lam * theta)",
    "return theta - lr * (grad + lam * theta)",
)


def solved(release: bytes, *edits: tuple[str, str], answer: str = ANSWER) -> bytes:
    """The student version of A1 as a student hands it in: each code cell to fill in holds the
    reference solution (with ``edits`` made in it), the written answer holds ``answer``."""
    reference = json.loads(A1.solution(*edits))
    code = {
        cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"])
        for cell in reference["cells"]
        if cell["metadata"].get("nbgrader", {}).get("solution")
    }
    notebook = json.loads(release)
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if not meta.get("solution"):
            continue
        if cell["cell_type"] == "markdown":
            cell["source"] = answer
        else:
            lines = code[meta["grade_id"]].splitlines(keepends=True)
            cell["source"] = "".join(line for line in lines if "### " not in line)
    text = json.dumps(notebook)
    assert "NotImplementedError" not in text and "YOUR ANSWER HERE" not in text
    return text.encode()


def follow(page, name: str) -> None:
    """Click the link ``name``: a course section (the course page's buttons, the section links on
    every course page) or a breadcrumb. Where the page has two with that name, the first."""
    page.get_by_role("link", name=name, exact=True).first.click()
    page.wait_for_load_state()


def shows(problems: list, locator, expected: str, where: str) -> None:
    """A small display check that does not stop the journey: a mismatch is noted in ``problems``
    (asserted empty at the end of the test)."""
    try:
        expect(locator).to_have_text(expected, timeout=30_000)  # a loaded machine
    except AssertionError:
        problems.append(f"{where} shows {locator.inner_text()!r}, not {expected!r}")


def fits(problems: list, page, where: str) -> None:
    """Note a page wider than the window (a long answer that does not wrap)."""
    if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
        problems.append(f"{where} is wider than the window: the answer does not wrap")


def row_of(page, item: str):
    """The table row whose first cell is exactly ``item``."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=item, exact=True))


def card(page, number: int):
    """Submission ``number``'s card on the assignment page."""
    return page.locator(".submission").filter(
        has=page.locator("strong", has_text=re.compile(rf"^#{number}$"))
    )


def test_a_student_submits_a1_sees_the_feedback_and_resubmits(
    page, live_server, demo, log_in, grading_worker
):
    # No page sets a submission limit (only the Django admin does) and the demo sets none: set
    # one, as the instructor would there, so the page has "N of M submissions left" to show.
    Assignment.objects.filter(course=demo, slug="a1").update(max_submissions=3)
    status_polls = []
    page.on("request", lambda r: "status.json" in r.url and status_polls.append(r.url))
    problems = []  # product bugs found on the way; asserted at the end so the journey runs on

    log_in("student01")
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/")
    page.shot("course")
    follow(page, "Assignments")
    page.get_by_role("link", name=A1_TITLE).click()
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/assignments/a1/")
    expect(page.get_by_role("heading", level=1)).to_have_text(A1_TITLE)
    expect(page.get_by_text("3 of 3 submissions left")).to_be_visible()
    expect(page.get_by_text("No submissions yet")).to_be_visible()
    # The student version is offered; the reference solution and the checks are not.
    expect(page.get_by_role("link", name="a1.ipynb")).to_be_visible()
    private = page.get_by_role("link", name=re.compile(r"reference|autograder\.toml"))
    expect(private).to_have_count(0)
    page.shot("assignment")

    # 1. Download through the real link.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="a1.ipynb").click()
    download = download_info.value
    assert download.suggested_filename == "a1.ipynb"
    with open(download.path(), "rb") as file:
        release = file.read()
    notebook = json.loads(release)
    text = json.dumps(notebook)
    assert notebook["nbformat"] == 4
    assert "YOUR CODE HERE" in text and "def gd_step(theta, grad, lr, lam)" in text
    assert "BEGIN SOLUTION" not in text and "MARK SCHEME" not in text
    assert "2 * lam * theta)" not in text  # the reference solution stays on the server
    if THE_QUESTION not in text:
        problems.append(
            "The downloaded A1 notebook does not ask the written question: its answer cell, "
            "which held the question, was replaced by 'YOUR ANSWER HERE'."
        )

    # 2. Submit with one wrong function.
    wrong = solved(release, WRONG_L2_STEP)
    page.get_by_label(re.compile(r"^a1\.ipynb \(\.ipynb")).set_input_files(
        files=[{"name": "a1.ipynb", "mimeType": "application/x-ipynb+json", "buffer": wrong}]
    )
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Submission #1 is queued for grading.")).to_be_visible()
    expect(page.get_by_text("2 of 3 submissions left")).to_be_visible()
    first = card(page, 1)
    expect(first.locator(".badge")).to_have_text(re.compile(r"^(Queued|Running)$"))
    # How long it has waited or run, by the server's clock, next to the badge.
    expect(first.locator(".elapsed")).to_have_text(re.compile(r"^(waiting|grading) for \d+ s$"))
    page.shot("submitted")

    # 3. The badge turns "Graded" by itself: the page polls status.json and is never reloaded.
    page.evaluate("window.notReloaded = true")
    expect(first.locator(".badge")).to_have_text("Graded", timeout=GRADING)
    assert page.evaluate("window.notReloaded === true"), "the page was reloaded"
    assert status_polls, "the page never asked status.json"
    assert Submission.objects.get(number=1, student__username="student01").state == "graded"
    expect(first).to_contain_text("8 / 10")  # 9 points of checks, one lost; the essay waits
    page.shot("graded-with-a-mistake")

    # 4. The card's table names the failing check and the mismatch; the rest passed.
    failing = first.get_by_role("row").filter(has_text="gradient step with L2")
    expect(failing.get_by_role("cell").nth(1)).to_have_text("0 / 1")
    expect(failing.get_by_role("cell").nth(2)).to_contain_text("Values of the output")
    expect(failing.get_by_role("cell").nth(2)).to_have_text(
        re.compile(r"the first at index \[\d+\]: expected [-\d.e]+, got [-\d.e]+")
    )
    expect(first.locator("tr.test-failed")).to_have_count(1)
    for check in ("sigmoid", "ReLU", "ELU", "empirical risk"):
        row = first.get_by_role("row").filter(has=page.get_by_role("cell", name=check, exact=True))
        expect(row.get_by_role("cell").nth(1)).to_have_text("1 / 1")
    written = first.get_by_role("row").filter(has_text="why_nonsaturating")
    expect(written.get_by_role("cell").nth(1)).to_have_text("waiting for a TA")

    # 5. "Feedback cell by cell" says the same, and shows the student's cells and answer.
    first.get_by_role("link", name="Feedback cell by cell").click()
    expect(page).to_have_url(re.compile(r"/assignments/a1/submissions/1/feedback/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback on submission #1")
    expect(page.get_by_label("Total")).to_contain_text("8 / 10 points")
    check = page.locator("article").filter(
        has=page.get_by_role("heading", name=re.compile(r"^gradient step with L2"))
    )
    expect(check.get_by_role("heading")).to_contain_text("0 / 1 points")
    expect(check.locator(".badge")).to_have_text("failed")
    expect(check).to_contain_text("Values of the output: 2 of 5 differ")
    expect(check).to_contain_text(re.compile(r"expected [-\d.e]+, got [-\d.e]+"))
    essay = page.locator("article").filter(
        has=page.get_by_role("heading", name=re.compile(r"^why_nonsaturating"))
    )
    expect(essay.locator(".badge")).to_have_text("waiting for a TA")
    expect(essay).to_contain_text("The sigmoid saturates")
    expect(page.get_by_text("def gd_step(theta, grad, lr, lam):")).to_be_visible()
    expect(page.get_by_text("BEGIN HIDDEN TESTS")).to_have_count(0)
    page.shot("feedback-cell-by-cell")

    # 6. Fix it and submit again: the new score and one submission left.
    page.get_by_role("link", name=f"Back to {A1_TITLE}").click()
    page.get_by_label(re.compile(r"^a1\.ipynb \(\.ipynb")).set_input_files(
        files=[
            {"name": "a1.ipynb", "mimeType": "application/x-ipynb+json", "buffer": solved(release)}
        ]
    )
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Submission #2 is queued for grading.")).to_be_visible()
    second = card(page, 2)
    expect(second.locator(".badge")).to_have_text(re.compile(r"^(Queued|Running)$"))
    page.shot("resubmitted")
    page.evaluate("window.notReloaded = true")
    expect(second.locator(".badge")).to_have_text("Graded", timeout=GRADING)
    assert page.evaluate("window.notReloaded === true"), "the page was reloaded"
    expect(second).to_contain_text("9 / 10")
    expect(second.locator("tr.test-failed")).to_have_count(0)
    fixed = second.get_by_role("row").filter(has_text="gradient step with L2")
    expect(fixed.get_by_role("cell").nth(1)).to_have_text("1 / 1")
    expect(first).to_contain_text("8 / 10")  # the first submission keeps its own result
    expect(page.get_by_text("1 of 3 submissions left")).to_be_visible()
    page.shot("resubmitted-graded")

    assert page.console_errors == []
    assert not problems, "Bugs seen on the way:\n" + "\n".join(problems)


def _wait_graded(submission: Submission, worker) -> Submission:
    deadline = time.monotonic() + GRADING / 1000
    while time.monotonic() < deadline and worker.poll() is None:
        submission.refresh_from_db()
        if submission.state in ("graded", "failed"):
            break
        time.sleep(0.5)  # the database, not the page: nothing to wait on but polling
    assert submission.state == "graded", worker.log_path.read_text()[-3000:]
    return submission


def test_the_ta_grades_by_hand_and_the_students_breakdown_follows(
    page, live_server, demo, log_in, grading_worker
):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    student = users.get(username="student01")
    problems = []  # small display bugs found on the way; asserted at the end
    assignment = Assignment.objects.select_related("item").get(course=demo, slug="a1")
    quiz = Quiz.objects.select_related("item").get(course=demo, slug="week1")
    # The demo's week-1 quiz shows points after it closes: let it show them once submitted, so
    # that the student's breakdown can follow the TA's grading while the quiz is still open.
    Quiz.objects.filter(pk=quiz.pk).update(review="after_submit")
    # The demo seeds A1 due a week ahead (when seeded after its syllabus date): on time.
    assert assignment.item.due_at > timezone.now()

    # student01's graded A1 submission with a written answer, graded by the real worker.
    _, release = assignment_file(assignment=assignment, role=FileRole.RELEASE)
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": solved(release)}
    )
    assert not Score.objects.filter(item=quiz.item, student=student).exists()  # not taken yet
    # ...and a submitted week-1 attempt: 4 points graded automatically, a free-text answer waiting.
    attempt = quiz_attempts.attempt_start(quiz=quiz, student=student)
    questions = {q.slug: q for q in quiz.questions.all()}
    for slug, value in {
        "sigmoid-slope": "0.25",
        "gd-update": "theta - eta*dR/dtheta",
        "dropout-prevents": "overfitting",
        "limitation": "Deep networks need a lot of labelled data. Where data is scarce or "
        "expensive to label, they overfit and a simpler model does better.",
    }.items():
        saved = quiz_attempts.answer_save(attempt=attempt, question=questions[slug], value=value)
        assert saved.accepted, saved.message
    attempt = quiz_attempts.attempt_submit(attempt=attempt)
    assert attempt.score is None  # waits for the free-text grade
    submission = _wait_graded(submission, grading_worker)
    assert submission.score == Decimal(9)  # every check; the written answer waits

    # Before the TA: A1 is not published, and the quiz's score has not reached the gradebook
    # (not the 4 points graded so far: the written answer waits).
    log_in("student01")
    follow(page, "My grades")
    expect(page.get_by_role("heading", level=1)).to_have_text("My grades")
    a1_row = row_of(page, A1_TITLE)
    quiz_row = row_of(page, "Quiz 1")
    expect(a1_row.get_by_role("cell").nth(2)).to_have_text("not published yet")
    expect(quiz_row.get_by_role("cell").nth(2)).to_have_text("–")
    assert not Score.objects.filter(item=quiz.item, student=student).exists()
    page.shot("student-before")

    # The TA grades A1's written answer: Assignments › A1 › Hand grading.
    log_in("ta")
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/")
    follow(page, "Assignments")
    page.get_by_role("link", name=A1_TITLE).click()
    page.get_by_role("link", name="Hand grading").click()
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/assignments/a1/manual/")
    expect(page.get_by_text("1 answer waiting")).to_be_visible()
    essay = page.locator("section.card").filter(has_text="Alina Sokolova · why_nonsaturating")
    expect(essay.locator(".badge")).to_have_text("waiting")
    expect(essay.locator("blockquote")).to_contain_text("The sigmoid saturates")
    page.shot("ta-a1-hand-grading")
    fits(problems, page, "A1's hand-grading page")
    essay.get_by_label("Points (0–1)").fill("0.5")
    essay.get_by_label("Comment for the student").fill("Right about saturation; say why ELU helps.")
    essay.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved for student01.")).to_be_visible()
    expect(page.get_by_text("0 answers waiting")).to_be_visible()
    shows(problems, essay.locator(".badge"), "graded 0.5", "A1's hand-grading badge")
    page.shot("ta-a1-graded")

    # The TA grades the quiz's free-text answer: Quizzes › Quiz 1 › Hand grading › limitation.
    follow(page, "pmldl")
    follow(page, "Quizzes")
    page.get_by_role("link", name=QUIZ_TITLE).click()
    page.get_by_role("link", name="Hand grading").click()
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/quizzes/week1/grading/")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="limitation"))
    expect(row.get_by_role("cell").nth(1)).to_have_text("1")  # waiting
    expect(row.get_by_role("cell").nth(2)).to_have_text("10")  # graded: the demo's student11-20
    page.shot("ta-quiz-hand-grading")
    row.get_by_role("link", name="limitation").click()
    answer = page.get_by_role("row").filter(has_text="student01")
    expect(answer).to_contain_text("Deep networks need a lot of labelled data.")
    expect(page.get_by_text(re.compile(r"^Rubric: 1 point for a real limitation"))).to_be_visible()
    page.get_by_label("Points for student01").fill("1.5")
    page.get_by_label("Comment for student01").fill("Good example; the second sentence is thin.")
    page.shot("ta-quiz-grading-filled")
    fits(problems, page, "The quiz's hand-grading page for limitation")
    page.get_by_role("button", name="Save the grades").click()
    # The page saves every row it shows: student01's new grade and the demo's ten again.
    expect(page.get_by_text("Saved 11 grades.")).to_be_visible()
    expect(page.get_by_label("Points for student01")).to_have_value(re.compile(r"^1\.50*$"))
    follow(page, "Hand grading")
    expect(row.get_by_role("cell").nth(1)).to_have_text("0")
    expect(row.get_by_role("cell").nth(2)).to_have_text("11")
    # Only now does the quiz score (4 + 1.5 of 10 points) reach the gradebook.
    score = Score.objects.get(item=quiz.item, student=student)
    assert (score.source, score.raw_points) == (Source.QUIZ, Decimal("5.5"))

    # The gradebook shows both; the TA publishes A1 so that the student sees it.
    follow(page, "pmldl")
    follow(page, "Gradebook")
    expect(page.get_by_role("link", name=f"{A1_TITLE} for student01")).to_have_text("9.5")
    # The quiz was taken while open, so all 5.5 points count: the quiz keeps its own deadline, and
    # the item's late policy does not apply to quiz scores.
    quiz_cell = page.get_by_role("link", name="Quiz 1 for student01")
    shows(problems, quiz_cell, "5.5", "The gradebook's Quiz 1 cell for student01")
    page.get_by_role("button", name=f"Publish {A1_TITLE} to students").click()
    expect(page.get_by_text(f"{A1_TITLE} is published: students see it.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Hide {A1_TITLE} from students")).to_have_text(
        "published ✓"
    )
    page.shot("ta-gradebook-published")

    # The student's breakdown follows, and each item page tells where its points came from.
    log_in("student01")
    follow(page, "My grades")
    expect(a1_row.get_by_role("cell").nth(2)).to_have_text("9.5 / 10")
    shows(problems, quiz_row.get_by_role("cell").nth(2), "5.5 / 10", "My grades' Quiz 1 row")
    page.shot("student-after")
    a1_row.get_by_role("link", name=A1_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(A1_TITLE)
    expect(page.locator("dl.facts")).to_contain_text("9.5 / 10")
    latest = page.locator("table.history tbody tr").last
    expect(latest).to_contain_text("Youssef Ibrahim")
    expect(latest).to_contain_text("Hand grade of why_nonsaturating")
    page.shot("student-a1-item")
    follow(page, "My grades")
    quiz_row.get_by_role("link", name="Quiz 1").click()
    counts = page.locator("dl.facts dd").first
    shows(problems, counts, "5.5 / 10", "Quiz 1's 'Counts as'")
    latest = page.locator("table.history tbody tr").last
    expect(latest.get_by_role("cell").nth(1)).to_have_text("Youssef Ibrahim")
    expect(latest.get_by_role("cell").nth(2)).to_have_text("Quiz")
    expect(latest.get_by_role("cell").nth(3)).not_to_contain_text("→")  # the first score
    expect(latest.get_by_role("cell").nth(3)).to_contain_text(re.compile(r"raw 5\.50*\b"))
    expect(latest.get_by_role("cell").nth(4)).to_have_text("hand grade")
    page.shot("student-quiz-item")
    # ...and the TA's comment is on A1's feedback page: Assignments › A1 › Feedback cell by cell.
    follow(page, "pmldl")
    follow(page, "Assignments")
    page.get_by_role("link", name=A1_TITLE).click()
    expect(card(page, 1).locator(".badge")).to_have_text("Graded")
    shows(problems, card(page, 1).locator("strong").nth(1), "9.5 / 10", "A1's submission card")
    card(page, 1).get_by_role("link", name="Feedback cell by cell").click()
    essay = page.locator("article").filter(
        has=page.get_by_role("heading", name=re.compile(r"^why_nonsaturating"))
    )
    shows(problems, page.get_by_label("Total").locator(".big"), "9.5 / 10 points", "A1's feedback")
    expect(essay.get_by_role("heading")).to_contain_text("0.5 / 1 points")
    expect(essay.locator(".badge")).to_have_text("graded by hand")
    expect(essay.locator("blockquote")).to_contain_text("TA's comment: Right about saturation")
    page.shot("student-a1-feedback")

    assert page.console_errors == []
    assert not problems, "Bugs seen on the way:\n" + "\n".join(problems)
