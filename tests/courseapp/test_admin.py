"""The Django admin covers every model of the project, and its lists, searches and filters work."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin

from courseapp.demo.services import demo_seed
from tests.factories import UserFactory

PROJECT_APPS = ("accounts", "courses", "grading", "autograder", "quizzes")
PROJECT_MODELS = [
    model for label in PROJECT_APPS for model in apps.get_app_config(label).get_models()
]


@pytest.fixture
def admin_client_with_demo(client, db):
    demo_seed()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=lambda m: m._meta.label)
def test_every_model_is_in_the_admin(model):
    assert admin.site.is_registered(model)


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=lambda m: m._meta.label)
def test_every_changelist_renders_and_searches(admin_client_with_demo, model):
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

    assert admin_client_with_demo.get(url).status_code == 200
    assert admin_client_with_demo.get(url, {"q": "student01"}).status_code == 200


def test_a_ta_finds_a_student_by_last_name_and_filters_by_role(admin_client_with_demo):
    response = admin_client_with_demo.get(
        "/admin/courses/enrollment/", {"q": "Sokolova", "role__exact": "student"}
    )

    assert "student01" in response.content.decode()
    assert "student02" not in response.content.decode()


def test_adding_a_team_membership_without_a_team_shows_the_form_error(admin_client_with_demo):
    response = admin_client_with_demo.post("/admin/courses/teammembership/add/", {"enrollment": ""})

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
