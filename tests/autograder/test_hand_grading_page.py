"""The TA's hand-grading page shows each written answer with the question the student read and the
mark scheme from the source notebook; students never get the scheme."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from autograder import selectors
from autograder.models import Assignment, GradingRun, Submission
from courseapp.demo.services import demo_seed


def test_the_question_and_mark_scheme_are_shown_to_the_ta(client, db):
    demo_seed(with_admin=False)
    a1 = Assignment.objects.get(slug="a1")
    student = get_user_model().objects.get(username="student01")
    submission = Submission.objects.create(assignment=a1, student=student, number=1,
                                           state="graded")  # fmt: skip
    GradingRun.objects.create(
        submission=submission, worker="w", isolation="bubblewrap", started_at=timezone.now(),
        tests=[{"name": "why_nonsaturating", "status": "manual", "score": None, "max_score": "1"}],
    )  # fmt: skip

    prompts = selectors.written_prompts(assignment=a1)
    client.force_login(get_user_model().objects.get(username="ta"))
    html = client.get("/courses/pmldl/assignments/a1/manual/").content.decode()

    assert set(prompts) == {"why_nonsaturating"}
    assert prompts["why_nonsaturating"].question.startswith("## 5. In words")
    assert prompts["why_nonsaturating"].scheme.startswith("1 point: the sigmoid saturates")
    assert "Why do ReLU, leaky ReLU and ELU train deep networks better" in html
    assert "Mark scheme (staff only)" in html and "1 point: the sigmoid saturates" in html
    client.force_login(student)
    assert client.get("/courses/pmldl/assignments/a1/manual/").status_code == 403
