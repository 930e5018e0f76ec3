"""A real worker process whose ``MEDIA_ROOT`` is not the web's grades a submission through the
bucket alone: it reads the assignment and the submission from it and stores the executed notebook
in it, which the web then shows. (The two-host test isolates the worker further: its own mount
namespace; this one pins what storage owes it.)"""

from __future__ import annotations

import pytest

from autograder import blobs
from autograder.services.intake import submission_create
from tests.autograder.nbfactory import student_notebook
from tests.autograder.test_celery_worker import (
    start_worker,
    stop_worker,
    wait_until_graded_or_failed,
)
from tests.autograder.test_files_in_a_bucket import import_a1
from tests.autograder.test_worker_grades_a_submission import database_url

pytestmark = pytest.mark.slow
PRINTS = "print('printed by' + ' the worker')"  # its output is in the executed notebook only


def test_a_worker_with_a_disk_of_its_own_grades_through_the_bucket(
    transactional_db, blobs_in_bucket, tmp_path, client, course, instructor, student
):
    assignment = import_a1(course)
    worker_media = tmp_path / "worker-media"
    worker = start_worker(
        ["default", "gpu"],
        tmp_path / "worker.log",
        DATABASE_URL=database_url(),
        MEDIA_ROOT=str(worker_media),
        **blobs_in_bucket.env,
    )
    try:
        submission = submission_create(
            assignment=assignment,
            student=student,
            files={"a1.ipynb": student_notebook(extra_cells=[PRINTS])},
        )
        wait_until_graded_or_failed(submission, worker)
    finally:
        stop_worker(worker)
    log = (tmp_path / "worker.log").read_text()[-3000:]
    assert submission.state == "graded", log
    assert submission.score == 2

    executed = submission.runs.get().executed_sha256
    assert blobs.key_for(executed) in blobs_in_bucket.blob_keys()
    assert not (worker_media / "blobs").exists() or not any((worker_media / "blobs").iterdir())
    client.force_login(student)
    feedback = client.get("/courses/pmldl/assignments/a1/submissions/1/feedback/")
    assert feedback.status_code == 200
    page = feedback.content.decode()
    assert "printed by the worker" in page and "could not be read" not in page
