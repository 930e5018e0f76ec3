"""The final project is graded per team: one score copied to each member, with an optional
per-member adjustment, and the team kept on each score."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from courseapp.courses.models import Enrollment
from courseapp.courses.services import team_create
from grading.selectors import gradebook_for_course
from grading.services import scores
from grading.services.items import graded_item_create


@pytest.fixture
def project(scheme, course):
    return graded_item_create(
        course=course, component="Final project", name="Project", max_points=100, team_graded=True
    )


@pytest.fixture
def team(course, student, other_student):
    members = list(Enrollment.objects.filter(user__in=[student, other_student]))
    return team_create(course=course, name="Backprop", members=members)


def test_a_team_score_reaches_every_member_with_the_team_linked(project, team, ta):
    made = scores.team_score_set(item=project, team=team, points=80, by=ta)

    assert sorted((s.student.username, s.raw_points, s.team) for s in made) == [
        ("other_student", 80, team),
        ("student", 80, team),
    ]


def test_an_adjustment_moves_one_member_only(project, team, ta, student, other_student, course):
    made = {s.student: s for s in scores.team_score_set(item=project, team=team, points=80, by=ta)}

    scores.team_member_adjust(score=made[student], adjustment=-10, reason="did less", by=ta)

    book = gradebook_for_course(course=course)
    assert book.breakdowns[student.pk].item(project.pk).earned == 70
    assert book.breakdowns[other_student.pk].item(project.pk).earned == 80
    assert book.breakdowns[student.pk].components[3].share == 21  # 30 × 70/100


def test_an_individual_item_takes_no_team_score(quiz, team, ta):
    with pytest.raises(ValidationError, match="per student"):
        scores.team_score_set(item=quiz, team=team, points=5, by=ta)
