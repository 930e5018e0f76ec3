"""Attacks on the autograder's file storage: ways a file could be lost, leaked or corrupted and
still be graded. Each test is one attack that once worked."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from autograder import blobs
from autograder.blob_storages import LocalBlobStorage
from autograder.blobs import StorageUnreachable
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


def test_a_download_while_the_bucket_is_down_is_a_503_that_says_to_try_again(
    client, student, assignment, bucket_down
):
    """Any page that needs the file store while it is down (``courseapp.config.unavailable``)."""
    client.force_login(student)

    download = client.get("/courses/pmldl/assignments/a1/files/a1.ipynb")

    assert download.status_code == 503
    assert download["Retry-After"] == "60"
    assert StorageUnreachable.FOR_PEOPLE in download.content.decode()


def _as_uid(uid: int, command: str) -> int:
    """Run ``command`` in a shell as ``uid`` (its own group, no others); its exit status."""
    argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "sh", "-c", command]
    return subprocess.run(argv, capture_output=True, timeout=60).returncode


@pytest.fixture
def open_dir():
    """A folder every uid can pass through (pytest's ``tmp_path`` is under a 0700 one)."""
    path = Path(tempfile.mkdtemp(prefix="blob-owners-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv"
)
def test_on_disk_a_blob_a_root_worker_stores_is_the_web_users_and_no_one_elses(open_dir):
    """One machine, files on disk: the web runs as its own user (``courseapp``) and owns
    ``MEDIA_ROOT``; the worker runs as root and stores executed notebooks. The rlimits fallback
    runs a student's code as another unprivileged uid on the host's filesystem: it must not read
    the instructor's sources (hidden tests, solutions) or other students' files, and the web
    must still read what the worker stored and store files under the folders the worker made."""
    web, student_code = 65534, 65533
    media = open_dir / "media"
    media.mkdir()
    os.chown(media, web, web)
    storage = LocalBlobStorage(**storage_url.blob_storage("", media_root=media)["OPTIONS"])

    storage.save("ab/ab01", ContentFile(b"the hidden tests"))  # as root: the worker
    stored = media / "blobs" / "ab" / "ab01"

    assert _as_uid(student_code, f"cat {stored}") != 0
    assert _as_uid(web, f"cat {stored}") == 0
    assert _as_uid(web, f"echo x > {stored.parent}/ab02") == 0
