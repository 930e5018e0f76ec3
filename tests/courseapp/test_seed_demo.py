"""``seed_demo`` builds the PMLDL course from the slides, and a second run changes nothing."""

from __future__ import annotations

from io import StringIO

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from autograder.models import Assignment
from courseapp.courses.models import Course, Enrollment, Lecture, Role, Team
from courseapp.quizzes.models import Attempt, Quiz
from grading.models import GradingScheme, Score


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every model of the project's apps, to compare before and after."""
    rows = {}
    for label in ("accounts", "courses", "grading"):
        for model in apps.get_app_config(label).get_models():
            rows[model._meta.label] = sorted(model.objects.values_list(), key=repr)
    return rows


def test_it_creates_the_course_from_the_slides(db):
    output = seed()

    course = Course.objects.get(code="pmldl")
    assert course.title == "Practical Machine Learning and Deep Learning"
    roles = Enrollment.objects.filter(course=course).values_list("role", flat=True)
    assert sorted(roles).count(Role.STUDENT) == 20
    assert list(roles).count(Role.INSTRUCTOR) == list(roles).count(Role.TA) == 1
    assert Lecture.objects.filter(course=course).count() == 8
    assert (
        Lecture.objects.get(course=course, number=4).title == "RNNs: LSTM, attention, transformers"
    )
    teams = Team.objects.filter(course=course)
    assert teams.count() == 4
    assert sorted(team.memberships.count() for team in teams) == [5, 5, 5, 5]
    assert "instructor" in output and "pmldl-demo" in output and "student20" in output


def test_it_records_the_slides_grading_components_and_letters(db):
    seed()

    scheme = GradingScheme.objects.get(course__code="pmldl")
    assert [(c["name"], c["points"]) for c in scheme.components] == [
        ("Quizzes", "10"),
        ("Assignments", "30"),
        ("Midterm", "20"),
        ("Final project", "30"),
        ("Final exam", "20"),
    ]
    assert [(c["letter"], c["min_points"]) for c in scheme.letter_cutoffs] == [
        ("A", "90"),
        ("B", "76"),
        ("C", "60"),
        ("D", "0"),
    ]
    assert scheme.rounding == "half_up"


def test_running_it_twice_changes_nothing(db):
    seed()
    before = snapshot()

    output = seed()

    assert snapshot() == before
    assert "nothing changed" in output


def test_it_completes_a_partly_seeded_course(db):
    seed()
    Lecture.objects.filter(number__gte=5).delete()

    seed()

    assert Lecture.objects.filter(course__code="pmldl").count() == 8


def test_the_demo_logins_work(client, db):
    seed()

    for username in ("admin", "ta", "student01", "student20", "instructor"):
        client.logout()
        answer = client.post(
            "/accounts/login/", {"username": username, "password": "pmldl-demo"}, follow=True
        )
        assert answer.status_code == 200 and answer.context["user"].username == username
    assert client.get("/courses/pmldl/").status_code == 200


@override_settings(DEMO_SEED_ALLOWED=False)
def test_it_refuses_to_seed_a_production_site_unless_told(db):
    try:
        seed()
    except CommandError as exc:
        assert "--allow-production" in str(exc)
    else:
        raise AssertionError("seed_demo ran with DEBUG off")
    assert not Course.objects.exists()


@override_settings(DEMO_SEED_ALLOWED=False)
def test_a_production_seed_creates_no_superuser(db):
    call_command("seed_demo", "--allow-production", stdout=StringIO())

    assert Course.objects.filter(code="pmldl").exists()
    assert not get_user_model().objects.filter(is_superuser=True).exists()


def test_it_imports_a1_with_its_reference_checks(client, db):
    seed()

    a1 = Assignment.objects.get(course__code="pmldl", slug="a1")
    assert (a1.kind, a1.item.name) == ("notebook", "A1: neural network basics")
    assert a1.item.max_points == 10
    assert set(a1.files.values_list("role", "name")) == {
        ("source", "a1.ipynb"),
        ("release", "a1.ipynb"),
        ("source", "autograder.toml"),
        ("source", "a1_reference.py"),
    }
    client.force_login(get_user_model().objects.get(username="student01"))
    student_version = client.get("/courses/pmldl/assignments/a1/files/a1.ipynb").getvalue()
    assert b"def relu(x)" in student_version and b"torch.where(x > 0" not in student_version


def test_it_imports_a3_with_the_pretrained_weights_for_students(client, db):
    seed()

    a3 = Assignment.objects.get(course__code="pmldl", slug="a3")
    assert (a3.kind, a3.item.name, a3.item.max_points) == (
        "notebook",
        "A3: reusing pretrained layers",
        10,
    )
    assert ("data", "digits_0_4.safetensors") in set(a3.files.values_list("role", "name"))
    client.force_login(get_user_model().objects.get(username="student01"))
    weights = client.get("/courses/pmldl/assignments/a3/files/digits_0_4.safetensors")
    assert weights.status_code == 200 and b"hidden.0.weight" in weights.getvalue()
    reference = client.get("/courses/pmldl/assignments/a3/files/a3_reference.py")
    assert reference.status_code == 404


def test_it_creates_the_week1_quiz_open_now_on_the_quiz_1_item(db):
    seed()

    quiz = Quiz.objects.get(course__code="pmldl", slug="week1")
    assert quiz.item.name == "Quiz 1" and quiz.lecture.number == 1
    assert quiz.opens_at < timezone.now() < quiz.closes_at
    kinds = set(quiz.questions.values_list("kind", flat=True))
    assert {"single", "multiple", "true_false", "numeric", "short_text", "formula"} <= kinds
    assert quiz.questions.get(slug="gd-update").key["answer"] == "theta - eta*dR/dtheta"


def test_every_seeded_score_is_for_work_the_student_did(client, db):
    """No score for an item a student has not done: each Quiz 1 score comes from the student's
    own submitted week-1 attempt; nothing else (assignments, exams, the project) is scored."""
    seed()

    scores = list(
        Score.objects.filter(item__course__code="pmldl").select_related("item", "student")
    )
    assert {s.item.name for s in scores} == {"Quiz 1"}
    for score in scores:
        attempt = Attempt.objects.get(
            quiz__slug="week1", student=score.student, state="submitted", score__isnull=False
        )
        assert (score.source, score.raw_points) == ("quiz", attempt.score)
    graded = {s.student.username for s in scores}
    taken = set(Attempt.objects.values_list("student__username", flat=True))
    assert graded == taken == {f"student{n}" for n in range(11, 21)}


def test_the_home_page_sends_only_students_without_an_attempt_to_the_quiz(client, db):
    seed()
    users = get_user_model().objects

    client.force_login(users.get(username="student01"))
    fresh = client.get("/courses/pmldl/").content.decode()
    client.force_login(users.get(username="student11"))
    graded = client.get("/courses/pmldl/").content.decode()

    assert "Take the quiz" in fresh and "Submitted" not in fresh
    assert "Submitted" in graded and "Take the quiz" not in graded
