"""Importing an assignment makes its student version and its graded item; the command does the
same; students download the student version and the data, never the source."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from autograder.models import FileRole
from autograder.selectors import assignment_file
from tests.autograder.nbfactory import source_bytes


def test_importing_makes_the_student_version_and_an_item(assignment):
    release = dict(assignment.files.values_list("role", "name"))

    assert release == {"source": "a1.ipynb", "release": "a1.ipynb", "data": "data.csv"}
    _, student_version = assignment_file(assignment=assignment, role=FileRole.RELEASE)
    assert b"max(0, x)" not in student_version and b"BEGIN HIDDEN TESTS" not in student_version
    assert (assignment.item.name, assignment.item.max_points) == ("A1: ReLU", Decimal(3))


def test_the_import_command_updates_an_assignment(tmp_path, assignment, course):
    (tmp_path / "a1.ipynb").write_bytes(source_bytes())
    out = StringIO()

    call_command(
        "import_assignment",
        "--course",
        "pmldl",
        "--slug",
        "a1",
        str(tmp_path / "a1.ipynb"),
        stdout=out,
    )

    assert "Imported pmldl/a1 (2 files)" in out.getvalue()
    (tmp_path / "x.csv").write_text("1,2\n")
    with pytest.raises(CommandError, match="one or more nbgrader source notebooks"):
        call_command(
            "import_assignment", "--course", "pmldl", "--slug", "a2", str(tmp_path / "x.csv")
        )


def test_a_student_version_and_data_are_downloadable_but_not_the_source(
    client, student, assignment
):
    client.force_login(student)

    page = client.get("/courses/pmldl/assignments/a1/").content.decode()
    download = client.get("/courses/pmldl/assignments/a1/files/a1.ipynb")

    assert "data.csv" in page
    assert download.status_code == 200
    body = download.getvalue()  # streamed from storage
    assert b"BEGIN HIDDEN TESTS" not in body and b"max(0, x)" not in body
