"""With ``STORAGE_URL`` naming a bucket, an assignment's and a submission's files live in it, not on
this machine's disk: stored by the services, read back by the selectors, downloaded through the
view that checks access. Unset, they stay under ``MEDIA_ROOT/blobs`` as before."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.http import FileResponse

from autograder import blobs, selectors
from autograder.blob_storages import LocalBlobStorage
from autograder.models import FileRole
from autograder.services.assignments import assignment_import
from autograder.services.intake import submission_create
from grading.services.schemes import grading_scheme_create
from tests.autograder.nbfactory import source_bytes, student_notebook
from tests.grading.conftest import LETTERS, SLIDES

ROOT = Path(__file__).resolve().parents[2]


def import_a1(course):
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    data = f"x,y\n{uuid.uuid4().hex},2\n".encode()
    return assignment_import(
        course=course,
        slug="a1",
        title="A1: ReLU",
        files={"a1.ipynb": source_bytes(), "data.csv": data},
    )


def test_a_submission_is_stored_in_the_bucket_and_read_back(
    blobs_in_bucket, course, instructor, student
):
    assignment = import_a1(course)
    notebook = student_notebook("    return max(0, x)  # " + uuid.uuid4().hex)

    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": notebook}
    )

    assert selectors.submission_files(submission=submission) == {"a1.ipynb": notebook}
    stored = submission.files.get(name="a1.ipynb").sha256
    assert blobs.key_for(stored) in blobs_in_bucket.blob_keys()
    assert blobs_in_bucket.read_blob(blobs.key_for(stored)) == notebook
    # The assignment's own files went to the bucket too, and nothing to the local blobs directory.
    for file in assignment.files.all():
        assert blobs.key_for(file.sha256) in blobs_in_bucket.blob_keys()
    assert not (Path(settings.MEDIA_ROOT) / "blobs" / stored[:2] / stored).exists()


def test_the_download_view_streams_the_file_from_the_bucket(
    blobs_in_bucket, client, course, instructor, student
):
    assignment = import_a1(course)
    _, data = selectors.assignment_file(assignment=assignment, role=FileRole.DATA)
    client.force_login(student)

    response = client.get("/courses/pmldl/assignments/a1/files/data.csv")

    assert response.status_code == 200
    assert isinstance(response, FileResponse) and response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="data.csv"'
    assert response.getvalue() == data
    assert blobs_in_bucket.read_blob(blobs.key_for(hashlib.sha256(data).hexdigest())) == data


def test_the_download_view_still_checks_who_may_read(
    blobs_in_bucket, client, course, instructor, outsider
):
    import_a1(course)
    client.force_login(outsider)

    response = client.get("/courses/pmldl/assignments/a1/files/data.csv")

    assert response.status_code == 404  # not in the course: it is not even said to exist


def test_unset_files_stay_under_media_root_as_before(course, instructor):
    if settings.STORAGE_URL:
        pytest.skip("this run sets STORAGE_URL (the default is tested in test_storage_url.py)")
    assert isinstance(blobs.storage(), LocalBlobStorage)
    data = f"kept on this machine {uuid.uuid4().hex}".encode()

    digest = blobs.put(data)

    # The layout of every release so far: files already stored are found where they were.
    assert (Path(settings.MEDIA_ROOT) / "blobs" / digest[:2] / digest).read_bytes() == data


READ_AND_WRITE = """
import django, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.settings")
django.setup()
from autograder import blobs
sys.stdout.write(blobs.get(sys.argv[1]).decode())
sys.stdout.write("\\n" + blobs.put(b"written by another process " + sys.argv[1].encode()))
"""


def test_another_machine_with_only_the_bucket_in_common_reads_and_writes_the_same_files(
    blobs_in_bucket, tmp_path
):
    data = f"stored by the web {uuid.uuid4().hex}".encode()
    digest = blobs.put(data)
    # Its own VAR_DIR and MEDIA_ROOT: nothing of this process's disk; STORAGE_URL and the AWS
    # variables as a deployer sets them.
    env = {k: v for k, v in os.environ.items() if k not in ("MEDIA_ROOT", "DJANGO_SETTINGS_MODULE")}
    env.update(blobs_in_bucket.env, VAR_DIR=str(tmp_path / "elsewhere"))

    done = subprocess.run(
        [sys.executable, "-c", READ_AND_WRITE, digest],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    read, written = done.stdout.split("\n")
    assert read == data.decode()
    assert blobs.get(written) == b"written by another process " + digest.encode()
    assert not (tmp_path / "elsewhere" / "media" / "blobs").exists()
