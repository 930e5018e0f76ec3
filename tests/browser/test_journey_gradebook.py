"""Journeys 4 and 5 of issue 7, in a real browser against the demo course.

Journey 4: the instructor imports the midterm scores from CSV. The first file has one bad row: the
validation report names its line and nothing is applied. The fixed file is checked (a report of
what would change), then applied. The instructor then grants an extension on a late score (the
late penalty goes), overrides a score with a reason (the reason is in its history), publishes an
item and exports the gradebook, whose letters must be the ones the gradebook page shows.

Journey 5: student01 asks for a regrade of a published score from their grades; the instructor
accepts it with a new score on the regrade queue; the student then reads the reply, sees the new
score (and total) and the history entry that records it.
"""

from __future__ import annotations

import csv
import datetime
import re
import zoneinfo
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from courseapp.courses.models import Team
from grading import selectors
from grading.models import GradedItem, RegradeRequest, Score, Source
from grading.services.scores import score_set, team_score_set

pytestmark = [pytest.mark.slow, pytest.mark.browser]

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")  # the demo course's time zone
MIDTERM = ["Midterm theory", "Midterm practice"]
EXAM_PARTS = ["theory", "practice"]
# The midterm, as the instructor's spreadsheet has it: (username, theory, practice).
MIDTERM_SCORES = [
    ("student01", "8", "7.5"),
    ("student02", "9", "10"),
    ("student03", "6", "5"),
    ("student04", "4.5", "7"),
    ("student05", "10", "9"),
]
BAD = ("student02", "Midterm practice", "11")  # above the item's maximum of 10
OVERRIDE_REASON = "Question 3 re-marked after the exam review"
EXTENSION_REASON = "Ill that week, with a doctor's note"
# Final project scores per team (members: Backprop 01-05, Dropout 06-10, Attention 11-15,
# Residual 16-20), so that the gradebook's letters range from A to D.
PROJECT = {"Backprop": 85, "Dropout": 70, "Attention": 100, "Residual": 40}
REGRADE_MESSAGE = "Question 4 asked for the derivative of ReLU at 0; any subgradient was accepted."
REGRADE_REPLY = "You are right: question 4 accepted any value in [0, 1]. Two points added."


def midterm_csv(path, *, bad: bool) -> str:
    """The long format, one score a line; with ``bad``, student02's practice score is 11."""
    lines = ["username,item,points,comment"]
    for username, theory, practice in MIDTERM_SCORES:
        lines.append(f"{username},Midterm theory,{theory},")
        if bad and username == BAD[0]:
            lines.append(f"{username},{BAD[1]},{BAD[2]},")
        else:
            lines.append(f"{username},Midterm practice,{practice},")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def spread_the_letters(course) -> None:
    """The demo scores only the week-1 quizzes some students took, so every student is a D and
    comparing letters would prove little: score Quiz 2 (a paper quiz), the final project and the
    exam too. student11 (10/10 on both quizzes) gets exactly 89.5 of the points, which rounds
    half-up to 90: an A."""
    users = get_user_model().objects
    quizzes = [GradedItem.objects.get(course=course, name=f"Quiz {n}") for n in (1, 2)]
    for n in range(1, 21):
        student = users.get(username=f"student{n:02d}")
        score_set(item=quizzes[1], student=student, points=5 + n % 5, by=None, source=Source.MANUAL)
    for quiz in quizzes:
        score_set(
            item=quiz,
            student=users.get(username="student11"),
            points=10,
            by=None,
            source=Source.MANUAL,
        )
    project = GradedItem.objects.get(course=course, name="Final project")
    for team, points in PROJECT.items():
        team = Team.objects.get(course=course, name=team)
        team_score_set(item=project, team=team, points=points, by=None, reason="Presentation")
    exam = [GradedItem.objects.get(course=course, name=f"Final exam {p}") for p in EXAM_PARTS]
    for n in range(1, 21):
        student = users.get(username=f"student{n:02d}")
        points = (4 + n * 3 % 7, 3 + n * 5 % 8) if n != 11 else (10, Decimal("9.5"))
        for item, value in zip(exam, points, strict=True):
            score_set(item=item, student=student, points=value, by=None, source=Source.MANUAL)
    student11 = users.get(username="student11")
    a1 = GradedItem.objects.get(course=course, name="A1: neural network basics")
    score_set(item=a1, student=student11, points=10, by=None, source=Source.MANUAL)
    book = selectors.gradebook_for_course(course=course, students=[student11])
    assert book.breakdowns[student11.pk].total == Decimal("89.5")  # 10 + 30 + 30 + 19.5


def shows(problems: list, locator, expected, where: str) -> None:
    """A display check that does not stop the journey: a mismatch is noted in ``problems``,
    asserted empty at the end of the test."""
    try:
        expect(locator).to_have_text(expected, timeout=30_000)  # a loaded machine
    except AssertionError:
        problems.append(f"{where} shows {locator.inner_text()!r}, not {expected!r}")


def midterm_scores() -> dict:
    """Every midterm score in the database, with everything that makes up what counts."""
    return {
        (s.student.username, s.item.name): (s.status, s.raw_points, s.override_points)
        for s in Score.objects.filter(item__name__in=MIDTERM).select_related("student", "item")
    }


def shortcut(page, name: str, url: str) -> None:
    """Follow the link ``name`` as a user does: in the page's content (the course page's
    buttons), else in the course's section bar; it must lead to ``url``."""
    in_content = page.locator("main").get_by_role("link", name=name, exact=True)
    in_sections = page.get_by_role("navigation", name="pmldl sections").get_by_role(
        "link", name=name, exact=True
    )
    link = in_content if in_content.count() else in_sections
    assert link.count(), f"no link {name!r} on {page.url}"
    link.first.click()
    page.wait_for_load_state()
    expect(page).to_have_url(url)


def score_cell(page, item: str, username: str):
    """The gradebook's cell of ``item`` for ``username`` (its link is named that way)."""
    link = page.get_by_role("link", name=f"{item} for {username}", exact=True)
    return page.get_by_role("cell").filter(has=link)


def card(page, heading: str):
    """A form card on the score page, found by its heading."""
    return page.locator("form.card").filter(has=page.get_by_role("heading", name=heading))


def fact(page, term: str):
    """The value of ``term`` in a score's facts ("Counts as", "Raw score", "Due", "Late", ...)."""
    return (
        page.locator("dl.facts dt")
        .filter(has_text=re.compile(f"^{term}$"))
        .locator("xpath=following-sibling::dd[1]")
    )


def history_row(page, text: str):
    return (
        page.get_by_role("table", name=re.compile("History of this score"))
        .get_by_role("row")
        .filter(has_text=text)
    )


def gradebook_table(page) -> dict[str, dict[str, str]]:
    """What the gradebook page shows for each student: {username: {"total", "letter"}}."""
    table = page.locator("table.gradebook")
    usernames = table.locator("tbody th[scope=row] .muted").all_inner_texts()
    totals = table.locator("tbody td.total").all_inner_texts()
    letters = table.locator("tbody td.letter").all_inner_texts()
    assert len(usernames) == len(totals) == len(letters)
    return {
        u.strip(): {"total": t.split("→")[0].strip(), "letter": letter.strip()}
        for u, t, letter in zip(usernames, totals, letters, strict=True)
    }


def two_places(value: str) -> str:
    """A CSV total as the page shows it: at most two decimals, cut (never rounded up)."""
    from grading.templatetags.grading_tags import points

    return points(Decimal(value))


def test_the_instructor_imports_midterm_scores_corrects_and_exports_the_gradebook(
    page, live_server, demo, log_in, tmp_path
):
    base = f"{live_server.url}/courses/pmldl"
    problems: list[str] = []  # product bugs found on the way; asserted at the end
    spread_the_letters(demo)
    # Before the import, student01 already had a theory score (entered by hand after an oral
    # retake), so that "nothing applied" and "Now → After" have something to show.
    users = get_user_model().objects
    student01 = users.get(username="student01")
    theory = GradedItem.objects.get(course=demo, name="Midterm theory")
    score_set(item=theory, student=student01, points=6, by=None, source=Source.MANUAL)
    # student06 handed Quiz 2 in ten hours after it was due: one started day late, -10 %.
    quiz2 = GradedItem.objects.get(course=demo, name="Quiz 2")
    student06 = users.get(username="student06")
    raw06 = Score.objects.get(item=quiz2, student=student06).raw_points  # spread_the_letters
    score_set(
        item=quiz2,
        student=student06,
        points=raw06,
        by=None,
        source=Source.MANUAL,
        submitted_at=quiz2.due_at + datetime.timedelta(hours=10),
    )
    before = midterm_scores()
    assert before == {("student01", "Midterm theory"): ("graded", Decimal(6), None)}

    # --- The gradebook, from the course page.
    log_in("instructor")
    expect(page).to_have_url(f"{base}/")
    page.shot("01-course")
    shortcut(page, "Gradebook", f"{base}/gradebook/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gradebook")
    expect(score_cell(page, "Midterm theory", "student01")).to_have_text("6")
    expect(score_cell(page, "Midterm theory", "student02")).to_have_text("–")
    page.get_by_role("link", name="Import CSV").click()
    expect(page).to_have_url(f"{base}/gradebook/import/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import scores from CSV")
    page.shot("02-import")

    # --- 1. A file with one bad row: the report names the line, nothing is applied.
    page.get_by_label("CSV file").set_input_files(midterm_csv(tmp_path / "midterm.csv", bad=True))
    page.get_by_role("button", name="Check the file").click()
    report = page.locator("section").filter(
        has=page.get_by_role("heading", name="Validation report")
    )
    expect(report.get_by_role("alert")).to_have_text(
        "1 row cannot be imported, so nothing was imported. Fix the file and upload it again."
    )
    bad_line = 1 + 2 * [u for u, *_ in MIDTERM_SCORES].index(BAD[0]) + 2  # header, 2 rows each
    errors = report.get_by_role("listitem")
    expect(errors).to_have_count(1)
    expect(errors).to_have_text(re.compile(rf"^Line {bad_line}: Midterm practice: .*\b11\b"))
    expect(errors).to_contain_text("above the maximum of 10")
    # Points as the site writes them everywhere else ("out of 10", "Points (0–10)").
    shows(
        problems,
        errors,
        f"Line {bad_line}: Midterm practice: points 11 is above the maximum of 10.",
        "The import's error for a score above the maximum",
    )
    expect(page.get_by_role("button", name=re.compile("^Apply"))).to_have_count(0)
    page.shot("03-import-bad-row")
    assert midterm_scores() == before, "a file with a bad row changed midterm scores"

    # --- 2. The fixed file: checked (what would change), then applied.
    page.get_by_label("CSV file").set_input_files(midterm_csv(tmp_path / "fixed.csv", bad=False))
    page.get_by_role("button", name="Check the file").click()
    expect(report.get_by_text("10 scores will change; 0 unchanged.")).to_be_visible()
    expect(report.get_by_role("alert")).to_have_count(0)
    changes = report.get_by_role("table")
    expect(changes.locator("tbody tr")).to_have_count(10)
    # student01's theory score goes from the hand-entered 6 to 8; a new one from – to its points.
    rows = changes.locator("tbody tr")
    expect(rows.filter(has_text="student01").first.get_by_role("cell")).to_have_text(
        ["2", "student01", "Midterm theory", "6", "8"]
    )
    expect(rows.nth(3).get_by_role("cell")).to_have_text(
        ["5", "student02", "Midterm practice", "–", "10"]
    )
    page.shot("04-import-report")
    assert midterm_scores() == before, "checking the file applied it"
    page.get_by_role("button", name="Apply these 10 changes").click()
    expect(page).to_have_url(f"{base}/gradebook/")
    expect(page.get_by_text("Imported: 10 score(s) changed.")).to_be_visible()
    for username, theory_points, practice_points in MIDTERM_SCORES:
        expect(score_cell(page, "Midterm theory", username)).to_have_text(theory_points)
        expect(score_cell(page, "Midterm practice", username)).to_have_text(practice_points)
    expect(score_cell(page, "Midterm theory", "student06")).to_have_text("–")
    page.shot("05-gradebook-imported")
    after = midterm_scores()
    assert len(after) == 10
    for username, theory_points, practice_points in MIDTERM_SCORES:
        assert after[(username, "Midterm theory")] == ("graded", Decimal(theory_points), None)
        assert after[(username, "Midterm practice")] == ("graded", Decimal(practice_points), None)

    # --- 3. An extension: student06's late Quiz 2 (click the cell), the penalty goes.
    penalty = raw06 / 10  # one started day late: 10 %
    late_cell = score_cell(page, "Quiz 2", "student06")
    expect(late_cell).to_contain_text(
        f"{two_places(str(raw06 - penalty))} −{two_places(str(penalty))}"
    )
    late_cell.get_by_role("link").click()
    expect(page).to_have_url(f"{base}/gradebook/items/{quiz2.pk}/students/student06/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quiz 2")
    expect(fact(page, "Late")).to_have_text(f"1 started day late: −{two_places(str(penalty))}")
    page.shot("06-score-late")
    new_due = (quiz2.due_at + datetime.timedelta(days=2)).astimezone(MOSCOW)
    extension = card(page, "Extension")
    extension.get_by_label("New due date").fill(new_due.strftime("%Y-%m-%dT%H:%M"))
    extension.get_by_label("Reason").fill(EXTENSION_REASON)
    extension.get_by_role("button", name="Grant extension").click()
    expect(page.get_by_text("Saved; the history below has the change.")).to_be_visible()
    due_shown = f"{new_due.day} {new_due:%b %Y %H:%M} MSK"
    expect(card(page, "Extension")).to_contain_text(f"Now due {due_shown}.")
    expect(fact(page, "Due")).to_have_text(re.compile(f"^\\w+ {due_shown} extended$"))
    expect(fact(page, "Late")).to_have_count(0)
    expect(fact(page, "Counts as")).to_have_text(f"{two_places(str(raw06))} / 10")
    expect(history_row(page, EXTENSION_REASON)).to_contain_text(
        f"{two_places(str(raw06 - penalty))} → {two_places(str(raw06))}"
    )
    page.shot("07-score-extended")
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Gradebook").click()
    expect(score_cell(page, "Quiz 2", "student06")).to_have_text(two_places(str(raw06)))

    # --- 4. An override with a reason: student02's theory score, 9 → 9.5.
    score_cell(page, "Midterm theory", "student02").get_by_role("link").click()
    expect(page).to_have_url(f"{base}/gradebook/items/{theory.pk}/students/student02/")
    history = page.get_by_role("table", name=re.compile("History of this score"))
    imported = history.get_by_role("row").filter(has_text="CSV import, line 4")
    expect(imported.get_by_role("cell")).to_have_text(
        [
            re.compile(r"\d+ \w+ \d{4}"),
            "Vladimir Ivanov",
            "CSV import",
            "9 (raw 9)",
            re.compile("^CSV import, line 4$"),
        ]
    )
    override = card(page, "Override")
    override.get_by_label("Final points").fill("9.5")
    override.get_by_label("Reason (required, the student sees it)").fill(OVERRIDE_REASON)
    override.get_by_role("button", name="Override").click()
    expect(page.get_by_text("Saved; the history below has the change.")).to_be_visible()
    expect(fact(page, "Counts as")).to_have_text("9.5 / 10")
    expect(fact(page, "Raw score")).to_have_text("9")
    expect(fact(page, "Override")).to_contain_text(f"set by staff: “{OVERRIDE_REASON}”")
    row = history_row(page, OVERRIDE_REASON)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("9 → 9.5")
    expect(row).to_contain_text("override 9.5")
    expect(row).to_contain_text("Vladimir Ivanov")
    page.shot("08-score-overridden")
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Gradebook").click()
    expect(score_cell(page, "Midterm theory", "student02")).to_have_text("9.5 ovr")

    # --- 5. Publish the midterm's theory part.
    publish = page.get_by_role("button", name="Publish Midterm theory to students")
    expect(publish).to_have_text("hidden · publish")
    publish.click()
    expect(page.get_by_text("Midterm theory is published: students see it.")).to_be_visible()
    expect(page.get_by_role("button", name="Hide Midterm theory from students")).to_have_text(
        "published ✓"
    )
    expect(page.get_by_role("button", name="Publish Midterm practice to students")).to_be_visible()
    theory.refresh_from_db()
    assert theory.published
    page.shot("09-gradebook-published")

    # --- 6. Export: the file has the changes, and every letter is the page's.
    shown = gradebook_table(page)
    assert len(shown) == 20
    assert shown["student11"] == {"total": "89.5", "letter": "A"}
    expect(page.get_by_role("row").filter(has_text="student11").locator("td.total")).to_have_text(
        "89.5 → 90"
    )
    assert len({row["letter"] for row in shown.values()}) >= 3, shown  # a comparison that shows
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert re.fullmatch(r"pmldl-gradebook-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8", newline="") as file:
        exported = {row["username"]: row for row in csv.DictReader(file)}
    assert set(exported) == set(shown)
    assert exported["student01"]["Midterm theory"] == "8"
    assert exported["student01"]["Midterm practice"] == "7.5"
    assert exported["student02"]["Midterm theory"] == "9.5"
    assert exported["student06"]["Midterm theory"] == ""
    assert exported["student06"]["Quiz 2"] == two_places(str(raw06))
    letters = {u: (row["letter"], shown[u]["letter"]) for u, row in exported.items()}
    differ = {u: pair for u, pair in letters.items() if pair[0] != pair[1]}
    assert not differ, f"letters in the export differ from the page (csv, page): {differ}"
    totals = {u: (two_places(row["total"]), shown[u]["total"]) for u, row in exported.items()}
    differ = {u: pair for u, pair in totals.items() if pair[0] != pair[1]}
    assert not differ, f"totals in the export differ from the page (csv, page): {differ}"
    # The chart of letters counts the letters the table shows.
    chart = page.get_by_role("img", name="Students by letter").locator("title")
    counted = Counter(row["letter"] for row in shown.values())
    expect(chart).to_have_text([f"{letter}: {counted[letter]}" for letter in "ABCD"])
    page.locator(".table-scroll").evaluate("table => table.scrollLeft = table.scrollWidth")
    page.shot("10-gradebook-exported")

    # --- 7. The export imported again changes nothing (its cells are what counts now).
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(download.path())
    page.get_by_role("button", name="Check the file").click()
    every = Score.objects.filter(item__course=demo).count()  # each has a cell in the export
    expect(report).to_contain_text(
        f"Nothing to change: all {every} scores in the file are already in the gradebook."
    )
    expect(report.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Apply"))).to_have_count(0)
    page.shot("11-export-imported-again")

    assert page.console_errors == []
    assert not problems, problems


def test_a_student_asks_for_a_regrade_and_reads_the_answer(page, live_server, demo, log_in):
    base = f"{live_server.url}/courses/pmldl"
    item = GradedItem.objects.get(course=demo, name="Quiz 2")
    assert item.published
    student01 = get_user_model().objects.get(username="student01")
    score_set(item=item, student=student01, points=6, by=None, source=Source.MANUAL)  # on paper
    old = Score.objects.get(item=item, student__username="student01").raw_points
    new = old + 2 if old <= 8 else old - 2
    old_text, new_text = two_places(str(old)), two_places(str(new))

    # --- The student opens Quiz 2 from their grades and asks for a regrade.
    log_in("student01")
    expect(page).to_have_url(f"{base}/")
    page.shot("01-student-course")
    shortcut(page, "My grades", f"{base}/grades/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My grades")
    total_before = Decimal(page.locator(".total-card .big").inner_text().split()[0])
    quizzes = page.locator("section").filter(has=page.get_by_role("heading", name="Quizzes"))
    quiz_row = quizzes.get_by_role("row").filter(has=page.get_by_role("link", name="Quiz 2"))
    expect(quiz_row).to_contain_text(f"{old_text} / 10")
    page.shot("02-my-grades")
    quiz_row.get_by_role("link", name="Quiz 2").click()
    expect(page).to_have_url(f"{base}/grades/{item.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Quiz 2")
    expect(fact(page, "Counts as")).to_have_text(f"{old_text} / 10")
    page.get_by_label("What do you think is wrong with this score?").fill(REGRADE_MESSAGE)
    page.get_by_role("button", name="Ask for a regrade").click()
    expect(page.get_by_text("Your regrade request is with the course staff.")).to_be_visible()
    request_card = page.locator(".card").filter(has_text=REGRADE_MESSAGE)
    expect(request_card.locator(".badge")).to_have_text("Open")
    page.shot("03-regrade-asked")
    assert RegradeRequest.objects.filter(score__item=item, status="open").count() == 1

    # --- The instructor accepts it with a new score, on the regrade queue.
    log_in("instructor")
    expect(page).to_have_url(f"{base}/")
    shortcut(page, "Regrade requests", f"{base}/regrades/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Regrade requests")
    request = page.locator("section.card").filter(
        has=page.get_by_role("heading", name=re.compile(r"· Quiz 2"))
    )
    expect(request).to_have_count(1)
    expect(request.get_by_role("heading")).to_contain_text("Quiz 2")
    expect(request.locator(".badge")).to_have_text("Open")
    expect(request.locator("blockquote")).to_have_text(REGRADE_MESSAGE)
    page.shot("04-queue-open")
    accept = request.locator("form").filter(
        has=page.get_by_role("button", name="Accept with new score")
    )
    accept.get_by_label("New points").fill(str(new))
    accept.get_by_label("Reply").fill(REGRADE_REPLY)
    accept.get_by_role("button", name="Accept with new score").click()
    expect(page.get_by_text("Answered; the student sees your reply.")).to_be_visible()
    expect(request.locator(".badge")).to_have_text("Accepted")
    expect(request).to_contain_text("Reply (Vladimir Ivanov, ")
    expect(request).to_contain_text(REGRADE_REPLY)
    expect(request.get_by_role("button")).to_have_count(0)
    page.shot("05-queue-accepted")

    # --- The student reads the reply, the new score and its history.
    log_in("student01")
    shortcut(page, "My grades", f"{base}/grades/")
    mine = page.locator("section").filter(
        has=page.get_by_role("heading", name="My regrade requests")
    )
    answered = mine.locator(".card").filter(has_text="Quiz 2")
    expect(answered.locator(".badge")).to_have_text("Accepted")
    expect(answered).to_contain_text(f"Reply: {REGRADE_REPLY}")
    expect(quiz_row).to_contain_text(f"{new_text} / 10")
    expect(quiz_row).to_contain_text("set by staff")
    # Quizzes are 10 points of the total, and student01 has one quiz score (of 10 points) so far.
    total_after = Decimal(page.locator(".total-card .big").inner_text().split()[0])
    assert total_after - total_before == (new - old) * 10 / 10
    page.shot("06-my-grades-answered")
    quiz_row.get_by_role("link", name="Quiz 2").click()
    expect(fact(page, "Counts as")).to_have_text(f"{new_text} / 10")
    expect(fact(page, "Raw score")).to_have_text(old_text)
    expect(fact(page, "Override")).to_contain_text(f"set by staff: “Regrade: {REGRADE_REPLY}”")
    entry = (
        page.get_by_role("table", name=re.compile("History of this score"))
        .get_by_role("row")
        .filter(has_text=f"Regrade: {REGRADE_REPLY}")
    )
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(f"{old_text} → {new_text}")
    expect(entry).to_contain_text("Vladimir Ivanov")
    reply_card = page.locator(".card").filter(has_text=REGRADE_MESSAGE)
    expect(reply_card.locator(".badge")).to_have_text("Accepted")
    expect(reply_card).to_contain_text(f"Reply: {REGRADE_REPLY}")
    page.shot("07-my-score-answered")

    assert page.console_errors == []
