"""An assignment's upload cap (``max_upload_kb``) holds on every way in: the page, the API and the
service, for a file and for a zip that unpacks past it; the refusal names the cap, nothing is
stored."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from autograder.models import Submission
from autograder.services.intake import submission_create
from tests.autograder.nbfactory import student_notebook

CAP_KB = 4
PAGE, API = "/courses/pmldl/assignments/a1/", "/api/courses/pmldl/assignments/a1/submissions/"


def _too_big() -> bytes:
    """A real notebook padded past the cap with a long comment in a cell."""
    return student_notebook("    # " + "x" * (CAP_KB * 1024) + "\n    return x")


def _zip_too_big() -> bytes:
    """A small zip whose notebook unpacks past the cap."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a1.ipynb", _too_big())
    return buffer.getvalue()


@pytest.fixture
def capped(assignment):
    assignment.max_upload_kb = CAP_KB
    assignment.save()
    return assignment


@pytest.mark.parametrize(("name", "content"), [("a1.ipynb", _too_big), ("a1.zip", _zip_too_big)])
def test_the_page_refuses_an_upload_past_the_cap(client, student, capped, name, content):
    client.force_login(student)

    upload = SimpleUploadedFile(name, content())
    page = client.post(PAGE, {"file": upload}, follow=True)

    assert f"{CAP_KB} KB" in page.content.decode()
    assert not Submission.objects.exists()


@pytest.mark.parametrize(("name", "content"), [("a1.ipynb", _too_big), ("a1.zip", _zip_too_big)])
def test_the_api_refuses_an_upload_past_the_cap(api_as, student, capped, name, content):
    response = api_as(student).post(API, {"file": SimpleUploadedFile(name, content())})

    assert response.status_code == 400 and f"{CAP_KB} KB" in str(response.json())
    assert not Submission.objects.exists()


def test_the_service_refuses_files_past_the_cap(student, capped):
    with pytest.raises(ValidationError, match=f"{CAP_KB} KB"):
        submission_create(assignment=capped, student=student, files={"a1.ipynb": _too_big()})
    assert not Submission.objects.exists()


def test_an_upload_under_the_cap_is_taken(student, capped):
    small = student_notebook("    return x")
    assert len(small) < CAP_KB * 1024

    submission = submission_create(assignment=capped, student=student, files={"a1.ipynb": small})

    assert submission.number == 1
