"""The bucket that holds the autograder's files does not answer: a student's upload, on the page
or through the API, is refused whole with a 503 that says to try again (no submission is stored
without its files, nothing is queued), and a download says the same; never a bare 500."""

from __future__ import annotations

import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from autograder.blobs import StorageUnreachable
from autograder.models import Submission
from tests.autograder.nbfactory import student_notebook

PAGE = "/courses/pmldl/assignments/a1/"
API = "/api/courses/pmldl/assignments/a1/"


@pytest.fixture
def bucket_down(assignment, settings, s3_bucket):
    """The assignment's files were stored; now the bucket's address answers nothing."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    entry = s3_bucket.storages_entry()
    entry["OPTIONS"]["endpoint_url"] = f"http://127.0.0.1:{closed}"
    settings.STORAGES = {**settings.STORAGES, "blobs": entry}


def test_an_upload_on_the_page_is_refused_with_a_503_that_says_to_try_again(
    client, student, bucket_down
):
    client.force_login(student)

    page = client.post(PAGE, {"file": SimpleUploadedFile("a1.ipynb", student_notebook())})

    assert page.status_code == 503
    assert page["Retry-After"] == "60"
    assert StorageUnreachable.FOR_PEOPLE in page.content.decode()
    assert not Submission.objects.exists()


def test_an_upload_through_the_api_is_a_503_that_says_to_try_again(api_as, student, bucket_down):
    made = api_as(student).post(
        API + "submissions/", {"file": SimpleUploadedFile("a1.ipynb", student_notebook())}
    )

    assert made.status_code == 503
    assert made.json() == {"detail": StorageUnreachable.FOR_PEOPLE}
    assert not Submission.objects.exists()


def test_a_download_says_the_same(client, student, bucket_down):
    client.force_login(student)

    download = client.get(PAGE + "files/a1.ipynb")

    assert download.status_code == 503
    assert StorageUnreachable.FOR_PEOPLE in download.content.decode()
