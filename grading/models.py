"""The gradebook's data: schemes (versioned), components, items, scores, their history, extensions,
regrade requests and grade releases. Grades themselves are computed, never stored: see
``grading.computation``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from courseapp.courses.models import Course, Team
from grading.computation import Rounding, Status

POINTS = {"max_digits": 8, "decimal_places": 3}


class Component(models.Model):
    """A part of the final grade (Quizzes, Assignments, …); its points are in scheme versions."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="grade_components")
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["course", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="unique_component_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.course.code})"


class GradingScheme(models.Model):
    """One immutable version of a course's scheme; a change adds a version, the newest is current.

    ``components``: ``[{"name", "points", "drop_lowest", "late_policy"|null}]`` in order;
    ``letter_cutoffs``: ``[{"letter", "min_points"}]``, descending lower bounds ending at 0;
    ``late_policy``: ``{"percent_per_day", "floor_percent", "max_days_late"}``, the course default.
    Numbers are strings, read back as Decimal. ``grading.services`` validates before saving.
    """

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="grading_schemes")
    version = models.PositiveIntegerField()
    components = models.JSONField()
    letter_cutoffs = models.JSONField()
    late_policy = models.JSONField()
    rounding = models.CharField(
        max_length=20,
        choices=[
            (Rounding.HALF_UP, "Round half-up to a whole point"),
            (Rounding.NONE, "No rounding"),
        ],
        default=Rounding.HALF_UP,
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["course", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["course", "version"], name="unique_scheme_version"),
        ]

    def __str__(self) -> str:
        return f"{self.course.code} grading scheme v{self.version}"


class ItemKind(models.TextChoices):
    QUIZ = "quiz", "Quiz"
    ASSIGNMENT = "assignment", "Assignment"
    EXAM_PART = "exam_part", "Exam part"
    PROJECT = "project", "Project"
    MANUAL = "manual", "Manual"


class GradedItem(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="graded_items")
    component = models.ForeignKey(Component, on_delete=models.PROTECT, related_name="items")
    name = models.CharField(max_length=120, help_text="Unique in the course; the CSV column name.")
    kind = models.CharField(max_length=20, choices=ItemKind.choices, default=ItemKind.MANUAL)
    max_points = models.DecimalField(**POINTS, validators=[MinValueValidator(Decimal("0.001"))])
    due_at = models.DateTimeField(null=True, blank=True)
    published = models.BooleanField(default=False)
    never_drop = models.BooleanField(default=False)
    team_graded = models.BooleanField(
        default=False, help_text="One score per project team, copied to each member."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["course", "component__position", "position", "due_at", "name"]
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="unique_item_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.course.code})"


class Source(models.TextChoices):
    QUIZ = "quiz", "Quiz"
    AUTOGRADER = "autograder", "Autograder"
    MANUAL = "manual", "Manual entry"
    IMPORT = "import", "CSV import"


STATUS_CHOICES = [(s.value, s.value.capitalize()) for s in Status]


class Score(models.Model):
    """The current score of one student on one item. Every change goes through
    ``grading.services`` and leaves a ``ScoreHistory`` row."""

    item = models.ForeignKey(GradedItem, on_delete=models.CASCADE, related_name="scores")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scores"
    )
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=Status.GRADED)
    source = models.CharField(max_length=20, choices=Source.choices)
    raw_points = models.DecimalField(**POINTS, null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    override_points = models.DecimalField(**POINTS, null=True, blank=True)
    override_reason = models.CharField(max_length=300, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    adjustment = models.DecimalField(**POINTS, default=Decimal(0))
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item", "student__username"]
        constraints = [
            models.UniqueConstraint(fields=["item", "student"], name="one_score_per_item_student"),
        ]

    def __str__(self) -> str:
        return f"{self.student} on {self.item.name}"


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk edits and deletes, as the model refuses single ones."""

    def update(self, **kwargs):
        raise AppendOnlyError("Score history is append-only; add a new entry instead.")

    def delete(self):
        raise AppendOnlyError("Score history is append-only and is never deleted.")


class ScoreHistory(models.Model):
    """An append-only log of every change to a score: never edited, never deleted."""

    score = models.ForeignKey(Score, on_delete=models.PROTECT, related_name="history")
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    reason = models.CharField(max_length=300, blank=True)
    old = models.JSONField(null=True, help_text="The score's fields before; null when created.")
    new = models.JSONField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["score", "changed_at", "pk"]
        verbose_name_plural = "score history"

    def __str__(self) -> str:
        return f"{self.score} changed {self.changed_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Score history is append-only; add a new entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Score history is append-only and is never deleted.")


class Extension(models.Model):
    """A student's own due date for one item."""

    item = models.ForeignKey(GradedItem, on_delete=models.CASCADE, related_name="extensions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions"
    )
    due_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "student"], name="one_extension_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.student} on {self.item.name} until {self.due_at:%Y-%m-%d %H:%M}"


class RegradeStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class RegradeRequest(models.Model):
    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="regrade_requests")
    message = models.TextField()
    status = models.CharField(
        max_length=10, choices=RegradeStatus.choices, default=RegradeStatus.OPEN
    )
    reply = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["score"],
                condition=models.Q(status=RegradeStatus.OPEN),
                name="one_open_regrade_per_score",
            ),
        ]

    def __str__(self) -> str:
        return f"Regrade of {self.score} ({self.status})"


class GradeRelease(models.Model):
    """Staff published final letters computed with one scheme version; students keep seeing that
    version's letters until the next release, even if the scheme changes in between."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="grade_releases")
    scheme = models.ForeignKey(GradingScheme, on_delete=models.PROTECT, related_name="releases")
    released_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["course", "-released_at"]

    def __str__(self) -> str:
        return f"{self.course.code} grades released with v{self.scheme.version}"
