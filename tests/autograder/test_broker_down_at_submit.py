"""A broker that is down when a student submits: the submission is kept and counts, the page and
the API say it was received and that grading starts when the queue is back, the request makes one
try at the broker (no retry loop to wait through), and the sweeper sends it once the broker is back.

The broken brokers are real sockets: a port that refuses connections, a server that hangs up, one
that accepts and never answers, and a Unix socket that is not there (the embedded broker not
started).
"""

from __future__ import annotations

import datetime
import socket
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from autograder import sweeper
from autograder.models import Submission
from tests.autograder import brokerside
from tests.autograder.nbfactory import student_notebook

FAULTS = ["refuses connections", "hangs up", "never answers", "has no socket"]


class BrokenBroker:
    """A broker address that fails as ``fault`` says, counting the connections it accepted."""

    def __init__(self, fault: str, tmp_path) -> None:
        self.fault, self.accepted, self._open = fault, 0, []
        if fault == "has no socket":
            self.url = f"redis+socket://{tmp_path}/not-running.sock"
            return
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))  # held, so no one else takes the port
        self.url = f"redis://127.0.0.1:{self._server.getsockname()[1]}/0"
        if fault != "refuses connections":
            self._server.listen(16)
            threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self.accepted += 1
            if self.fault == "hangs up":
                client.close()
            else:
                self._open.append(client)

    def close(self) -> None:
        for client in self._open:
            client.close()
        if self.fault != "has no socket":
            self._server.close()


@pytest.fixture(params=FAULTS)
def broken_broker(request, tmp_path, monkeypatch):
    broker = BrokenBroker(request.param, tmp_path)
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", broker.url)  # what publishing connects to
    yield broker
    broker.close()


def upload():
    return SimpleUploadedFile("a1.ipynb", student_notebook())


def test_the_api_says_received_and_keeps_the_submission(
    transactional_db, broken_broker, api_as, student, assignment
):
    response = api_as(student).post(
        "/api/courses/pmldl/assignments/a1/submissions/", {"file": [upload()]}, format="multipart"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert "received and counts" in body["detail"]
    assert "grading starts when it is back" in body["detail"]
    assert "No need to submit again" in body["detail"]
    submission = Submission.objects.get(pk=body["id"])
    assert (submission.state, submission.number, submission.sent_at) == ("queued", 1, None)
    assert broken_broker.accepted <= 1  # one try, no retry loop


def test_the_page_says_received_and_keeps_the_submission(
    transactional_db, broken_broker, client, student, assignment
):
    client.force_login(student)

    page = client.post("/courses/pmldl/assignments/a1/", {"file": upload()}, follow=True)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Submission #1 is received and counts" in html
    assert "grading starts when it is back" in html
    assert Submission.objects.get(student=student).state == "queued"
    assert broken_broker.accepted <= 1


def test_the_sweeper_sends_it_once_the_broker_is_back(
    transactional_db, tmp_path, monkeypatch, api_as, student, assignment
):
    broker = BrokenBroker("refuses connections", tmp_path)
    with monkeypatch.context() as down:
        down.setenv("CELERY_BROKER_WRITE_URL", broker.url)
        made = api_as(student).post(
            "/api/courses/pmldl/assignments/a1/submissions/",
            {"file": [upload()]},
            format="multipart",
        )
        submission = Submission.objects.get(pk=made.json()["id"])
        sweeper.submissions_requeue_stuck(now=soon_after(submission))  # still down: unsent
        assert Submission.objects.get(pk=submission.pk).sent_at is None
    broker.close()
    before = brokerside.waiting("default")

    try:
        assert sweeper.submissions_requeue_stuck(now=soon_after(submission)) == 1
        assert sweeper.submissions_requeue_stuck(now=soon_after(submission)) == 0  # sent once
        assert brokerside.waiting("default") == before + 1
    finally:
        brokerside.purge("default")
    submission.refresh_from_db()
    assert (submission.state, submission.attempts) == ("queued", 0)
    assert submission.sent_at is not None


def soon_after(submission) -> datetime.datetime:
    """Past the moment when a message still unsent counts as not sent."""
    return submission.state_changed_at + sweeper.SEND_GRACE + datetime.timedelta(seconds=1)
