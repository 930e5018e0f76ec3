"""The OpenAPI schema and its Swagger UI render, from this site's own files."""

from __future__ import annotations

import re

import yaml
from django.core.management import call_command


def test_the_schema_renders_and_lists_the_course_endpoints(client, db):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/courses/",
        "/api/courses/{course_code}/",
        "/api/courses/{course_code}/enrollments/",
        "/api/courses/{course_code}/enrollments/{enrollment_id}/",
        "/api/courses/{course_code}/teams/",
        "/api/courses/{course_code}/lectures/",
    ):
        assert path in schema["paths"], path


def test_the_docs_page_loads_nothing_from_other_sites(client, db):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_the_schema_is_valid_and_generates_without_warnings(tmp_path, db):
    # --fail-on-warn: a name clash or an undocumented field would silently make the schema wrong.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))

    assert (tmp_path / "s.yml").read_text().startswith("openapi: 3")
