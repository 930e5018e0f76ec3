"""Journey 1 and a privacy crawl, in a real browser against the demo course.

Journey 1: student01 takes the week-1 quiz from the course page, writes the gradient-descent
update in an equivalent but different form, reloads mid-quiz and finds every answer kept, lets one
answer arrive past the deadline and sees it refused with the reason, is submitted by the server's
sweep, and reads the result once the review opens (the quiz closes): the score, the formula marked
right, the key; the page's numbers are the ones stored.

The privacy crawl: student02 gets data everywhere it could leak (a quiz attempt with a free-text
answer, an A1 submission, a regrade request, an extension, an override); student01 then follows
every same-site link from the course page and guesses the addresses of student02's things. None of
student02's data shows, guessed addresses answer 403 or 404, no page asks another host and no page
logs a console error. A team's roster is the one place a classmate's name belongs (teams are
visible to every member). The instructor's crawl checks that no page answers 500 or an error,
logs a console error or asks another host, and that staff do see student02's texts somewhere (so
that not finding them on the student's pages means something).
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urldefrag, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from autograder.models import Assignment, FileRole
from autograder.selectors import assignment_file
from autograder.services.intake import submission_create
from courseapp.courses.models import TeamMembership
from courseapp.quizzes import attempts as quiz_attempts
from courseapp.quizzes import services as quiz_services
from courseapp.quizzes.models import AnswerGrade, AnswerSave, Attempt, Question, Quiz
from grading.models import GradedItem, Score
from grading.services.regrades import regrade_request_create
from grading.services.scores import extension_grant, score_override, score_set

pytestmark = [pytest.mark.slow, pytest.mark.browser]

QUIZ_TITLE = "Quiz 1: neural networks and training them"
RELU_RIGHT = "It does not saturate for positive inputs: its derivative there is 1."
BATCHNORM_RIGHT = [
    "It normalizes each feature by the mean and variance of the current mini-batch.",
    "It then scales and shifts the result by learned parameters (gamma and beta).",
    "It keeps running averages of the mean and variance, used at evaluation time.",
]
BATCHNORM_WRONG = "It divides the learning rate by the batch size."
# theta - eta*dR/dtheta, written otherwise: Greek letters, a partial sign, a middle dot, the
# typographic minus, and the factors in another order.
FORMULA = "θ − (∂R/∂θ)·η"
LIMITATION = (
    "Deep networks need a lot of labelled data. Where labels are scarce they overfit, and a "
    "simpler model does better."
)
SAVED = re.compile(r"^Saved [^.]*$")  # "Saved 1:20:11 PM", and no warning after it
POINTS = re.compile(r"^(\d+(?:\.\d+)?) / (\d+(?:\.\d+)?)$")


def question(page, slug: str):
    """The fieldset of one question on the attempt page (slugs are the quiz's own names)."""
    return page.locator(f'fieldset[data-question="{slug}"]')


def expect_saved(page, slug: str) -> None:
    expect(question(page, slug).locator(".save-state")).to_have_text(SAVED)


def review_of(page, prompt_start: str):
    """A question's section on the reviewed attempt, found by the start of its prompt."""
    return page.locator("section.question").filter(has_text=prompt_start)


def test_a_student_takes_the_week1_quiz_and_reads_the_review(page, live_server, demo, log_in):
    users = get_user_model().objects
    student, ta = users.get(username="student01"), users.get(username="ta")
    quiz = Quiz.objects.select_related("item").get(course=demo, slug="week1")
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    problems = []  # product bugs met on the way; asserted at the end so the journey runs on

    # The course page → Quizzes → the week-1 quiz → Start.
    log_in("student01")
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/")
    page.shot("course")
    page.get_by_role("link", name="Quizzes", exact=True).first.click()
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/quizzes/")
    page.get_by_role("link", name=QUIZ_TITLE).click()
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/quizzes/week1/")
    expect(page.get_by_role("heading", level=1)).to_have_text(QUIZ_TITLE)
    expect(page.get_by_text("No attempts yet.")).to_be_visible()
    page.shot("quiz")
    page.get_by_role("button", name="Start attempt 1").click()
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/quizzes/week1/attempts/1/")
    expect(page.get_by_role("timer")).to_contain_text("Time left")
    attempt = Attempt.objects.get(quiz=quiz, student=student)
    drawn = set(Question.objects.filter(pk__in=attempt.question_pks).values_list("slug", flat=True))
    # One question of the "optimizers" pool, drawn per student.
    adam = "bias-correction-adam" in drawn
    pool = "bias-correction-adam" if adam else "bias-correction-true-false"
    pool_choice = "Adam" if adam else "True"
    assert drawn == {
        "relu-property",
        "sigmoid-slope",
        "gd-update",
        "batchnorm",
        pool,
        "dropout-prevents",
        "limitation",
    }
    page.shot("started")

    # Every question answered; each says "Saved" on its own (the formula with no warning: the
    # Greek letters, ∂, · and − are read). The short answer is wrong, to be fixed too late.
    question(page, "relu-property").get_by_label(RELU_RIGHT).check()
    expect_saved(page, "relu-property")
    question(page, "sigmoid-slope").get_by_role("textbox").fill("0.25")
    expect_saved(page, "sigmoid-slope")
    question(page, "gd-update").get_by_role("textbox").fill(FORMULA)
    expect_saved(page, "gd-update")
    for choice in BATCHNORM_RIGHT:
        question(page, "batchnorm").get_by_label(choice).check()
        expect_saved(page, "batchnorm")
    question(page, pool).get_by_label(pool_choice, exact=True).check()
    expect_saved(page, pool)
    question(page, "dropout-prevents").get_by_role("textbox").fill("regularization")
    expect_saved(page, "dropout-prevents")
    question(page, "limitation").get_by_role("textbox").fill(LIMITATION)
    expect_saved(page, "limitation")
    page.shot("answered")

    # A reload mid-quiz: every answer is still there, and the attempt goes on.
    page.reload()
    expect(page.get_by_role("timer")).to_contain_text("Time left")
    expect(question(page, "relu-property").get_by_label(RELU_RIGHT)).to_be_checked()
    expect(question(page, "sigmoid-slope").get_by_role("textbox")).to_have_value("0.25")
    expect(question(page, "gd-update").get_by_role("textbox")).to_have_value(FORMULA)
    for choice in BATCHNORM_RIGHT:
        expect(question(page, "batchnorm").get_by_label(choice)).to_be_checked()
    expect(question(page, "batchnorm").get_by_label(BATCHNORM_WRONG)).not_to_be_checked()
    expect(question(page, pool).get_by_label(pool_choice, exact=True)).to_be_checked()
    dropout_box = question(page, "dropout-prevents").get_by_role("textbox")
    expect(dropout_box).to_have_value("regularization")
    expect(question(page, "limitation").get_by_role("textbox")).to_have_value(LIMITATION)
    page.shot("reloaded")

    # The time runs out (the deadline moves past its 30 s of grace) while the student fixes the
    # short answer: the page says it was not saved, and why, and stops taking answers.
    # (As if started 10 minutes ago: the deadline stays the start plus the time limit.)
    now = timezone.now()
    Attempt.objects.filter(pk=attempt.pk).update(
        started_at=now - quiz.time_limit - datetime.timedelta(seconds=45),
        deadline=now - datetime.timedelta(seconds=45),
    )
    question(page, "dropout-prevents").get_by_role("textbox").fill("overfitting")
    refused = question(page, "dropout-prevents").locator(".save-state")
    expect(refused).to_have_text(
        re.compile(
            r"^Not saved: this answer arrived at .+, after the deadline \(.+, with 30 s of "
            r"grace\)\. The answers you saved before the deadline stand\.$"
        )
    )
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"^This attempt is closed"))
    expect(question(page, "dropout-prevents").get_by_role("textbox")).to_be_disabled()
    page.shot("refused-after-the-deadline")
    late = AnswerSave.objects.filter(attempt=attempt, question__slug="dropout-prevents")
    assert [(s.value, s.accepted) for s in late.order_by("pk")][-1] == ("overfitting", False)

    # The server's sweep (beat's task) submits the attempt with the answers saved in time; until
    # the quiz closes the page says so and shows no points and no key (review: after close).
    assert quiz_attempts.attempts_close_overdue() == 1
    page.reload()
    expect(page.get_by_text("by the server when the time was up")).to_be_visible()
    expect(page.get_by_text("Your answers are in.")).to_contain_text("shown after the quiz closes")
    expect(page.get_by_text(re.compile(r"^Score:"))).to_have_count(0)
    expect(page.get_by_text("Key:")).to_have_count(0)
    expect(review_of(page, "In one word")).to_contain_text("Your answer: regularization")
    page.shot("submitted-before-the-review")

    # The quiz closes: the review opens. The formula, written otherwise, is right; the late fix
    # did not count; the free-text answer waits for a TA, and so does the score.
    Quiz.objects.filter(pk=quiz.pk).update(closes_at=timezone.now() - datetime.timedelta(minutes=1))
    page.reload()
    expect(page.get_by_text("Score: waiting for a TA to grade written answers")).to_be_visible()
    gd = review_of(page, "Write one step of gradient descent")
    expect(gd.locator(".badge")).to_have_text("2 / 2")
    expect(gd).to_contain_text(f"Your answer: {FORMULA}")
    expect(gd).to_contain_text("Key: theta - eta*dR/dtheta or any equivalent form")
    dropout = review_of(page, "In one word")
    expect(dropout.locator(".badge")).to_have_text("0 / 1")
    expect(dropout).to_contain_text("Your answer: regularization")
    expect(dropout).to_contain_text("Key: overfitting, over-fitting, co-adaptation")
    written = review_of(page, "Name one limitation")
    expect(written.locator(".badge")).to_have_text("waiting for a TA")
    page.shot("review-waiting-for-a-ta")

    # A TA grades the written answer (their page is journey 3's); the student reloads.
    limitation = Question.objects.get(quiz=quiz, slug="limitation")
    attempt.refresh_from_db()
    assert (attempt.state, attempt.submitted_by_server, attempt.score) == ("submitted", True, None)
    quiz_services.answer_grade_set(
        attempt=attempt,
        question=limitation,
        points="1.5",
        feedback="Good; say why it matters.",
        by=ta,
    )
    page.reload()
    attempt.refresh_from_db()
    shown = page.get_by_text(re.compile(r"^Score: [\d.]+ / [\d.]+$"))
    # 1 + 1 + 2 + 2 + 1 + 0 (the late fix did not count) + 1.5 by the TA
    expect(shown).to_have_text(re.compile(r"^Score: 8\.50? / 10$"))
    score, maximum = POINTS.match(shown.text_content().removeprefix("Score: ")).groups()
    assert (Decimal(score), Decimal(maximum)) == (attempt.score, attempt.max_score)
    # Each question's points on the page (in the attempt's order) are the grade stored for it.
    stored = {g.question_id: g.points for g in AnswerGrade.objects.filter(attempt=attempt)}
    badges = page.locator("section.question h2 .badge")
    expect(badges).to_have_count(len(attempt.layout))
    on_page = [Decimal(POINTS.match(b.text_content()).group(1)) for b in badges.all()]
    assert on_page == [stored[entry["question"]] for entry in attempt.layout]
    assert sum(on_page) == attempt.score
    expect(review_of(page, "Name one limitation")).to_contain_text("Good; say why it matters.")
    expect(review_of(page, "Name one limitation")).to_contain_text("Key: graded by hand")
    page.shot("review-scored")

    # The course page and My grades show the same score.
    page.get_by_role("link", name="Home", exact=True).first.click()
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/")
    quiz_card = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=QUIZ_TITLE))
    expect(quiz_card).to_contain_text("Submitted: 8.5 / 10")
    page.get_by_role("link", name="My grades", exact=True).first.click()
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="Quiz 1", exact=True))
    in_gradebook = Score.objects.get(item=quiz.item, student=student)
    assert in_gradebook.raw_points == attempt.score  # Quiz 1 is worth 10, as the attempt
    page.shot("my-grades")
    shown_in_grades = row.get_by_role("cell").nth(2).text_content().strip()
    if shown_in_grades != "8.5 / 10":
        problems.append(
            f"My grades shows Quiz 1 as {shown_in_grades!r} ({row.text_content().split()!r}) "
            "although the attempt was submitted while the quiz was open and scored 8.5 / 10: the "
            "graded item's due date (the demo's fixed 7 Sep 2026) is not the quiz's close, so an "
            "on-time quiz counts as late."
        )

    refusals = [e for e in page.console_errors if "409" in e]
    assert len(refusals) == 1, page.console_errors  # the browser's own line for the refused save
    assert [e for e in page.console_errors if "409" not in e] == []
    assert [u for u in requested if not _same_site(u, live_server.url)] == []
    assert problems == []


# ---------------------------------------------------------------------------------------------
# The privacy crawl

STUDENT02 = ("student02", "Bogdan", "Kuznetsov")
SECRET_ANSWER = (
    "Adversarial fragility: a quokka sticker on a stop sign fools the classifier, so a car "
    "would not stop."
)
SECRET_SHORT = "quokka-dropout"
SECRET_REGRADE = "My marmalade answer to Quiz 1 deserved a point: please look again."
SECRET_EXTENSION = "Kiwi-lantern hospital note, 3 days"
SECRET_OVERRIDE = "Tangerine mix-up at the exam desk, corrected"
SECRET_NOTEBOOK = "# zebra-marker: student02 was here"
# Words of the texts above that a page could show on their own (truncated, quoted).
SECRET_WORDS = ["quokka", "marmalade", "kiwi-lantern", "tangerine", "zebra-marker"]
SKIP = re.compile(r"/accounts/logout|/admin/", re.IGNORECASE)
FILES = re.compile(r"/files/|export|download|\.csv$", re.IGNORECASE)  # fetched, not opened

# A team's roster (which every member of a course may see, README "Who may do what") is the one
# place where a classmate's name belongs. This removes from a copy of the page every element that
# holds exactly the roster of student02's team (the members' display names, the team's name, and
# separators) and returns what is left, attributes and scripts included.
WITHOUT_ROSTER = """([members, team]) => {
  const copy = document.documentElement.cloneNode(true);
  const pure = (el) => {
    const text = el.textContent;
    if (!members.every((m) => text.includes(m))) return false;
    let rest = text;
    for (const word of [...members, team]) rest = rest.split(word).join("");
    return /^[\\s,·;:|()\\-–—]*$/.test(rest);
  };
  for (const el of Array.from(copy.querySelectorAll("body *"))) {
    if (copy.contains(el) && pure(el)) el.remove();
  }
  return copy.outerHTML;
}"""


@dataclass
class Visit:
    url: str
    status: int | None
    final_url: str
    console: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)  # which of the watched strings it shows


def _same_site(url: str, base: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.netloc == urlsplit(base).netloc


def _pattern(url: str) -> str:
    """The page's kind: numbers and student usernames taken out, query values dropped."""
    parts = urlsplit(url)
    path = re.sub(r"student\d+", "S", re.sub(r"/\d+(?=/|$|\.)", "/N", parts.path))
    keys = sorted(p.split("=")[0] for p in parts.query.split("&") if p)
    return path + ("?" + "&".join(keys) if keys else "")


def crawl(page, base: str, *, watch=(), roster=None, also=(), limit=150, per_kind=None):
    """Breadth-first, in the browser, over the same-site links from the course page (and the
    pages ``also`` names), skipping logout and admin; files and exports are fetched and read
    rather than opened, and count as visits; forms are never sent.
    ``watch``: strings to look for in each page's HTML (attributes and scripts included), after
    taking out the team roster ``roster`` (see WITHOUT_ROSTER); ``per_kind``: visit at most that
    many pages of one kind (``_pattern``), so that a gradebook's hundreds of score links do not
    crowd out the other pages."""
    start = f"{base}/courses/pmldl/"
    page_errors = []
    page.on("pageerror", lambda error: page_errors.append(f"uncaught: {error}"))
    queue = deque([start, *(base + url for url in also)])
    seen, kinds, visits, downloads = set(queue), Counter(), [], []
    while queue and len(visits) < limit:
        url = queue.popleft()
        console_before, errors_before = len(page.console_errors), len(page_errors)
        try:
            response = page.goto(url, wait_until="load")
        except PlaywrightError as error:  # a link to a file that is not marked as a download
            if "Download is starting" not in error.message:
                raise
            downloads.append(url)
            continue
        visit = Visit(url, response.status if response else None, page.url)
        if watch:
            html = page.evaluate(WITHOUT_ROSTER, roster) if roster else page.content()
            visit.found = [s for s in watch if s.lower() in html.lower()]
        hrefs = page.eval_on_selector_all(
            "a[href]:not([download])", "links => links.map((a) => a.href)"
        )
        visit.console = page.console_errors[console_before:] + page_errors[errors_before:]
        visits.append(visit)
        for href in hrefs:
            link = urldefrag(href).url
            parts = urlsplit(link)
            if parts.scheme not in ("http", "https") or not _same_site(link, base):
                continue
            if link in seen or SKIP.search(parts.path + "?" + parts.query):
                continue
            seen.add(link)
            if FILES.search(parts.path + "?" + parts.query):
                downloads.append(link)
                continue
            if per_kind is not None:
                if kinds[_pattern(link)] >= per_kind:
                    continue
                kinds[_pattern(link)] += 1
            queue.append(link)
    for url in downloads:  # files and exports: what they hold is watched as a page's HTML is
        response = page.request.get(url)
        body = response.body().lower()
        visits.append(
            Visit(url, response.status, url, found=[s for s in watch if s.lower().encode() in body])
        )
    return visits, downloads


def _student02_everywhere(course):
    """student02's data in every place it could show: two quiz attempts (one submitted with a
    free-text answer waiting for a TA, one open), an A1 submission (queued: no worker runs), a
    regrade request, an extension and a score override. Returns what the guesses need."""
    users = get_user_model().objects
    other, instructor = users.get(username="student02"), users.get(username="instructor")
    quiz = Quiz.objects.get(course=course, slug="week1")
    questions = {q.slug: q for q in quiz.questions.all()}
    first = quiz_attempts.attempt_start(quiz=quiz, student=other)
    for slug, value in {
        "sigmoid-slope": "0.3",
        "gd-update": "theta + eta*dR/dtheta",
        "dropout-prevents": SECRET_SHORT,
        "limitation": SECRET_ANSWER,
    }.items():
        saved = quiz_attempts.answer_save(attempt=first, question=questions[slug], value=value)
        assert saved.accepted, saved.message
    quiz_attempts.attempt_submit(attempt=first)
    second = quiz_attempts.attempt_start(quiz=quiz, student=other)
    saved = quiz_attempts.answer_save(
        attempt=second, question=questions["limitation"], value=SECRET_ANSWER
    )
    assert saved.accepted and second.number == 2

    assignment = Assignment.objects.select_related("item").get(course=course, slug="a1")
    _, release = assignment_file(assignment=assignment, role=FileRole.RELEASE)
    notebook = json.loads(release)
    cell = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    cell["source"] = SECRET_NOTEBOOK + "\n" + "".join(cell["source"])
    submission = submission_create(
        assignment=assignment, student=other, files={"a1.ipynb": json.dumps(notebook).encode()}
    )

    quiz2_item = GradedItem.objects.get(course=course, name="Quiz 2")  # a paper quiz
    quiz2 = score_set(item=quiz2_item, student=other, points=7, by=instructor, source="manual")
    regrade_request_create(score=quiz2, student=other, message=SECRET_REGRADE)
    extension_grant(
        item=assignment.item,
        student=other,
        reason=SECRET_EXTENSION,
        by=instructor,
        due_at=assignment.item.due_at + datetime.timedelta(days=3),
    )
    score_override(score=quiz2, points="9.25", reason=SECRET_OVERRIDE, by=instructor)
    return submission, quiz2.item


def _roster_of(username: str):
    membership = TeamMembership.objects.select_related("team").get(
        enrollment__user__username=username
    )
    members = TeamMembership.objects.filter(team=membership.team).select_related("enrollment__user")
    return [m.enrollment.user.display_name for m in members], membership.team.name


def _crawl_as(page, live_server, log_in, username: str, **options):
    """Log ``username`` in, crawl from their home (``crawl``'s options), print what was visited;
    the visits, and every request the pages made as (page, address)."""
    requested = []
    page.on("request", lambda r: requested.append((page.url, r.url)))
    log_in(username)
    expect(page).to_have_url(f"{live_server.url}/courses/pmldl/")
    started = time.monotonic()
    visits, downloads = crawl(page, live_server.url, **options)
    print(f"\n{username}'s crawl: {len(visits)} pages in {time.monotonic() - started:.1f} s")
    print("\n".join(f"  {v.status} {v.url}" for v in visits))
    print("\n".join(f"  download {url}" for url in downloads))
    return visits, requested


def test_no_page_a_student_can_open_shows_another_students_data(page, live_server, demo, log_in):
    submission, quiz2 = _student02_everywhere(demo)
    # student01's own score (a paper Quiz 2), so that the crawl has an own score page to open.
    student01 = get_user_model().objects.get(username="student01")
    score_set(item=quiz2, student=student01, points=8, by=None, source="manual")
    username, first, last = STUDENT02
    forbidden = [
        username,
        f"{username}@",
        f"{first} {last}",
        last,
        SECRET_ANSWER,
        SECRET_REGRADE,
        SECRET_EXTENSION,
        SECRET_OVERRIDE,
        *SECRET_WORDS,
    ]
    roster = _roster_of(username)

    visits, requested = _crawl_as(
        page, live_server, log_in, "student01", watch=forbidden, roster=roster
    )

    paths = {urlsplit(v.final_url).path for v in visits}
    # The crawl reached the pages where a student's own data lives (so it can find a leak).
    for expected in (
        "/courses/pmldl/quizzes/week1/",
        "/courses/pmldl/grades/",
        "/courses/pmldl/assignments/a1/",
    ):
        assert expected in paths, sorted(paths)
    assert any(re.fullmatch(r"/courses/pmldl/grades/\d+/", p) for p in paths), sorted(paths)
    assert [(v.url, v.found) for v in visits if v.found] == []
    assert [(v.url, v.status) for v in visits if v.status != 200] == []
    assert [(v.url, v.console) for v in visits if v.console] == []
    assert [r for r in requested if not _same_site(r[1], live_server.url)] == []

    # student02's things, asked for directly by student01: refused, and nothing of theirs shown.
    course, item = "/courses/pmldl", quiz2.pk
    refused = [
        "/assignments/a1/submissions/1/status.json",
        "/assignments/a1/submissions/1/status.json?student=student02",
        "/assignments/a1/submissions/1/feedback/",
        "/assignments/a1/submissions/1/feedback/?student=student02",
        "/assignments/a1/manual/",
        "/quizzes/week1/attempts/1/",
        "/quizzes/week1/attempts/1/?student=student02",
        "/quizzes/week1/attempts/2/",
        "/quizzes/week1/grading/",
        "/quizzes/week1/grading/limitation/",
        "/quizzes/week1/stats/",
        "/quizzes/accommodations/",
        "/gradebook/",
        "/gradebook/export.csv",
        f"/gradebook/items/{item}/students/student02/",
        f"/gradebook/items/{GradedItem.objects.get(name='Final project').pk}/teams/",
        "/regrades/",
        "/extensions/",
    ]
    api = "/api/courses/pmldl"
    refused_api = [
        f"{api}/gradebook/",
        f"{api}/enrollments/",
        f"{api}/regrades/",
        f"{api}/items/{item}/scores/student02/",
        f"{api}/assignments/a1/submissions/{submission.pk}/results/",
        f"{api}/quizzes/week1/attempts/1/",
        f"{api}/quizzes/week1/attempts/2/",
    ]
    # Lists of one's own: answered, with nothing of student02's in them.
    own = [f"{api}/assignments/a1/submissions/", f"{api}/grades/me/", f"{api}/regrades/mine/"]
    guesses = [course + u for u in refused] + refused_api
    answers = {}
    for url in guesses + own:
        response = page.request.get(live_server.url + url, max_redirects=0)
        body = response.text().lower()
        answers[url] = (response.status, [s for s in forbidden if s.lower() in body])
    assert {u: a for u, a in answers.items() if u in guesses and a[0] not in (403, 404)} == {}
    assert {u: a for u, a in answers.items() if u in own and a[0] != 200} == {}
    assert {u: a for u, a in answers.items() if a[1]} == {}

    # The refusal is a page that says so, not a blank one or a crash.
    page.goto(f"{live_server.url}{course}/gradebook/items/{item}/students/student02/")
    expect(page.get_by_role("heading", level=1)).to_have_text("You may not open this page")
    expect(page.get_by_role("alert")).to_contain_text("Your role in pmldl does not allow this.")
    expect(page.get_by_role("link", name="Back to your courses")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(f"{first} {last}")
    page.shot("guessed-score-detail")


def test_every_page_the_instructor_can_reach_works(page, live_server, demo, log_in):
    # student02's data makes the staff pages fuller (queues, hand grading, a regrade, an override,
    # an extension); their score pages and their submission's feedback start the crawl too.
    _student02_everywhere(demo)
    items = dict(GradedItem.objects.filter(course=demo).values_list("name", "pk"))
    also = [
        *(
            f"/courses/pmldl/gradebook/items/{items[name]}/students/student02/"
            for name in ("Quiz 1", "Quiz 2", "A1: neural network basics")
        ),
        "/courses/pmldl/assignments/a1/submissions/1/feedback/?student=student02",
    ]
    secrets = [SECRET_ANSWER, SECRET_REGRADE, SECRET_EXTENSION, SECRET_OVERRIDE]

    visits, requested = _crawl_as(
        page, live_server, log_in, "instructor", watch=secrets, also=also, per_kind=3
    )

    paths = {urlsplit(v.final_url).path for v in visits}
    for expected in (
        "/courses/pmldl/gradebook/",
        "/courses/pmldl/regrades/",
        "/courses/pmldl/quizzes/week1/grading/",
    ):
        assert expected in paths, sorted(paths)
    assert [(v.url, v.status) for v in visits if v.status is None or v.status >= 500] == []
    assert [(v.url, v.status) for v in visits if v.status != 200] == []  # no link to a dead end
    assert [(v.url, v.console) for v in visits if v.console] == []
    assert [r for r in requested if not _same_site(r[1], live_server.url)] == []
    # Staff do see student02's texts somewhere: the strings the student's crawl looks for are on
    # real pages, so their absence there means something.
    shown = {s for v in visits for s in v.found}
    assert shown == set(secrets), set(secrets) - shown
