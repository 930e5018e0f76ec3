"""Attacks on the autograder's file storage: ways a file could be lost, leaked or corrupted and
still be graded. Each test is one attack that once worked."""

from __future__ import annotations

import socket
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from autograder import blobs
from autograder.failures import InfrastructureFault, worker_resources
from autograder.models import Submission
from courseapp.config import storage_url
from tests.autograder.nbfactory import student_notebook
from tests.autograder.test_blobs import store  # noqa: F401  (the disk and the bucket)


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 2], lambda data: b"", lambda data: data.upper()],
    ids=["cut in half", "empty", "changed"],
)
def test_it_never_grades_a_stored_file_that_is_not_what_was_stored(store, damage):  # noqa: F811
    """A file cut short by a crash (renamed into place before its data reached the disk), or
    changed in the bucket, is not what its sha256 says: reading it for grading is an
    infrastructure fault (retried, then failed for staff), never bytes the student is graded on."""
    data = f"def relu(x):\n    return max(0, x)  # {uuid.uuid4().hex}\n".encode()
    digest = blobs.put(data)
    store.write_blob(blobs.key_for(digest), damage(data))

    with pytest.raises(InfrastructureFault, match=digest), worker_resources():
        blobs.get(digest)


@pytest.fixture
def bucket_down(settings, monkeypatch):
    """STORAGE_URL names a bucket whose server does not answer (a restart, a network blip)."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    url = f"s3://grading?endpoint_url=http://127.0.0.1:{closed}&region_name=us-east-1"
    entry = storage_url.blob_storage(url, media_root=settings.MEDIA_ROOT)
    settings.STORAGES = {**settings.STORAGES, "blobs": entry}


def test_a_student_submitting_while_the_bucket_is_down_is_told_nothing_was_stored(
    client, student, assignment, bucket_down
):
    """The student's upload cannot be stored: the page says so and to submit again, rather than
    a server error; nothing counts against their limit."""
    client.force_login(student)
    upload = SimpleUploadedFile("a1.ipynb", student_notebook())

    page = client.post("/courses/pmldl/assignments/a1/", {"file": upload}, follow=True)

    assert page.status_code == 200
    assert "could not be stored" in page.content.decode()
    assert not Submission.objects.exists()


def test_the_api_answers_503_while_the_bucket_is_down(api_as, student, assignment, bucket_down):
    response = api_as(student).post(
        "/api/courses/pmldl/assignments/a1/submissions/",
        {"file": SimpleUploadedFile("a1.ipynb", student_notebook())},
    )

    assert response.status_code == 503
    assert "could not be stored" in response.json()["detail"]
    assert not Submission.objects.exists()
