"""Assignments that run code, students' submissions, and the runs that grade them.

Files are stored by content (sha256) in ``autograder.blobs``: a submission never overwrites an
earlier one, and the same file submitted twice is stored once. Scores reach the gradebook only
through ``grading.services.scores``.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from courseapp.courses.models import Course
from grading.models import GradedItem


class AssignmentKind(models.TextChoices):
    NOTEBOOK = "notebook", "Jupyter notebook (nbgrader format)"
    PYTHON = "python", "Python files with a test harness (autograder.toml)"


def grading_queue(wants_gpu: bool) -> str:
    """The Celery queue that grades an assignment's submissions."""
    return "gpu" if wants_gpu else "default"


def new_check_key() -> str:
    """A fresh secret for an assignment's ``check_key``."""
    return secrets.token_hex(32)


class Assignment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    item = models.OneToOneField(
        GradedItem,
        on_delete=models.PROTECT,
        related_name="assignment",
        help_text="Where the score goes in the gradebook.",
    )
    slug = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=AssignmentKind.choices)
    cell_timeout_seconds = models.PositiveIntegerField(default=30)
    run_timeout_seconds = models.PositiveIntegerField(default=300)
    memory_mb = models.PositiveIntegerField(default=2048)
    output_kb = models.PositiveIntegerField(default=1024)
    wants_gpu = models.BooleanField(default=False)
    max_submissions = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no limit."
    )
    cooldown_seconds = models.PositiveIntegerField(default=0)
    max_upload_kb = models.PositiveIntegerField(default=5 * 1024)
    updated_at = models.DateTimeField(auto_now=True)
    # The last "grade every submission again": when, and which submissions, so that the page can
    # say how many are done.
    regrade_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    regrade_batch = models.JSONField(default=list, blank=True, editable=False)
    # Salts the inputs of its reference checks (``checks.inputs.salted``) so that a student cannot
    # compute them ahead of a check. In the database, so every worker on every machine salts with
    # the same key (the same files get the same inputs anywhere); never shown, never exported.
    check_key = models.CharField(max_length=64, default=new_check_key, editable=False)

    class Meta:
        ordering = ["course", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="unique_assignment_slug"),
        ]

    def __str__(self) -> str:
        return f"{self.course.code}/{self.slug}"

    @property
    def max_upload_bytes(self) -> int:
        """The most an upload may hold, zipped or not: what every way of submitting refuses past."""
        return self.max_upload_kb * 1024


class FileRole(models.TextChoices):
    SOURCE = "source", "Instructor's source (solutions and hidden tests)"
    RELEASE = "release", "Student version"
    DATA = "data", "Data file given to students"


class AssignmentFile(models.Model):
    """One file of an assignment. Sources never leave the worker; releases and data are
    downloadable by the course's students."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="files")
    role = models.CharField(max_length=10, choices=FileRole.choices)
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["assignment", "role", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "role", "name"], name="unique_assignment_file"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} {self.role} {self.name}"


class SubmissionState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    GRADED = "graded", "Graded"
    FAILED = "failed", "Failed"  # the grading infrastructure failed, not the student's code


class Submission(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="submissions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions"
    )
    number = models.PositiveIntegerField(help_text="1 for the student's first submission.")
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(
        max_length=10, choices=SubmissionState.choices, default=SubmissionState.QUEUED
    )
    # The database's clock, as every later change of state and the workers' heartbeats: the web,
    # the workers and the sweeper may run on machines whose clocks differ.
    state_changed_at = models.DateTimeField(db_default=Now())
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker claimed it.")
    claimed_by = models.CharField(max_length=64, blank=True, help_text="The grading task's id.")
    claimed_worker = models.CharField(
        max_length=200, blank=True, help_text="The worker (Celery node name) grading it now."
    )
    sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its grading message went to the broker; empty while none did "
        "(the broker was down), for the sweeper to send.",
    )
    # Queued by staff's "grade everything again": it waits behind every fresh submission
    # (``autograder.services.queue``'s fair order), so a batch never holds up a student.
    batch = models.BooleanField(
        default=False, help_text='Queued by an assignment\'s "grade everything again".'
    )
    score = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    max_score = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "student", "number"], name="unique_submission_number"
            ),
        ]
        # claimed_by: a delivery finds the claim it holds by its token, whichever submission.
        indexes = [
            models.Index(fields=["state", "state_changed_at"]),
            models.Index(fields=["claimed_by"], name="submission_claimed_by"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} #{self.number} by {self.student}"


class SubmissionFile(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["submission", "name"]

    def __str__(self) -> str:
        return f"{self.submission} {self.name}"


class GradingRun(models.Model):
    """One grading of one submission: what ran where, and what came out."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="runs")
    worker = models.CharField(max_length=200)
    isolation = models.CharField(max_length=40)
    device = models.CharField(max_length=40, default="cpu")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    score = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    max_score = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    tests = models.JSONField(
        default=list, help_text="Per test: name, score, max_score, status, output."
    )
    notes = models.JSONField(default=list, help_text="What the student is told about the run.")
    log = models.TextField(blank=True, help_text="The sandbox's stderr, for staff only.")
    executed_sha256 = models.CharField(
        max_length=64, blank=True, help_text="The executed notebook."
    )
    executed_notebooks = models.JSONField(
        default=dict,
        blank=True,
        help_text="Of several notebooks: each executed notebook's sha256, by file name.",
    )
    error = models.TextField(blank=True, help_text="Why grading itself failed, if it did.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Run of {self.submission} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class ManualGrade(models.Model):
    """A TA's points for one hand-graded cell (a written answer) of one submission."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="manual_grades"
    )
    grade_id = models.CharField(max_length=200)
    points = models.DecimalField(max_digits=8, decimal_places=3)
    comment = models.TextField(blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    graded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["submission", "grade_id"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "grade_id"], name="one_manual_grade"),
        ]

    def __str__(self) -> str:
        return f"{self.grade_id} of {self.submission}: {self.points}"


class WorkerHeartbeat(models.Model):
    """What a grading worker last said about itself: written when it starts, every
    ``HEARTBEAT_SECONDS`` while it runs (a grading in progress does not hold it up), and when it
    stops. The staff dashboard and the admin read it to say which workers are alive."""

    hostname = models.CharField(max_length=200, unique=True)
    queues = models.JSONField(default=list)
    isolation = models.CharField(max_length=40, help_text="The sandbox the worker grades in.")
    device = models.CharField(max_length=40, default="cpu")
    pid = models.PositiveIntegerField()
    concurrency = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname} ({self.isolation}, {self.device})"
