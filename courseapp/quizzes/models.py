"""Quizzes: one after each lecture, timed by the server, its score a graded item of the Quizzes
component. An attempt's answers are an append-only log (``AnswerSave``): the answer that counts
is the last one accepted; nothing is overwritten."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from courseapp.courses.models import Course, Lecture

POINTS = {"max_digits": 8, "decimal_places": 3}


class Review(models.TextChoices):
    NEVER = "never", "Never"
    AFTER_SUBMIT = "after_submit", "After submitting"
    AFTER_CLOSE = "after_close", "After the quiz closes"


class Combine(models.TextChoices):
    HIGHEST = "highest", "Highest attempt"
    LAST = "last", "Last attempt"


class Quiz(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="quizzes")
    lecture = models.ForeignKey(Lecture, on_delete=models.PROTECT, related_name="quizzes")
    item = models.OneToOneField(
        "grading.GradedItem",
        on_delete=models.PROTECT,
        related_name="quiz",
        help_text="The graded item (in the Quizzes component) that the quiz's score goes to.",
    )
    slug = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    time_limit = models.DurationField(default=datetime.timedelta(minutes=10))
    attempts_allowed = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)]
    )
    combine = models.CharField(max_length=10, choices=Combine.choices, default=Combine.HIGHEST)
    shuffle_questions = models.BooleanField(default=False)
    shuffle_choices = models.BooleanField(default=False)
    review = models.CharField(max_length=20, choices=Review.choices, default=Review.AFTER_CLOSE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="quiz_slug_unique_in_course"),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="quiz_closes_after_open",
            ),
        ]
        ordering = ["opens_at", "pk"]
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return f"{self.course.code}: {self.title}"


class Pool(models.Model):
    """Questions of which each attempt draws ``draw`` ("3 of these 5"), chosen per student."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="pools")
    name = models.CharField(max_length=100)
    draw = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["quiz", "name"], name="pool_name_unique_in_quiz")
        ]
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.quiz.title}: {self.name} ({self.draw} drawn)"


class Kind(models.TextChoices):
    SINGLE = "single", "Single choice"
    MULTIPLE = "multiple", "Multiple choice"
    TRUE_FALSE = "true_false", "True/false"
    NUMERIC = "numeric", "Numeric"
    SHORT_TEXT = "short_text", "Short text"
    FORMULA = "formula", "Formula"
    FREE_TEXT = "free_text", "Free text (graded by hand)"


class Question(models.Model):
    """One question; ``key`` holds its answer by kind (``courseapp.quizzes.scoring``)."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    pool = models.ForeignKey(
        Pool, on_delete=models.SET_NULL, null=True, blank=True, related_name="questions"
    )
    slug = models.SlugField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    prompt = models.TextField(help_text="Markdown; math between $...$ or $$...$$.")
    points = models.DecimalField(**POINTS, validators=[MinValueValidator(0)])
    choices = models.JSONField(default=list, blank=True, help_text="Single and multiple choice.")
    key = models.JSONField(default=dict, blank=True)
    explanation = models.TextField(blank=True, help_text="Shown with the key at review time.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["quiz", "slug"], name="question_slug_unique_in_quiz")
        ]
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.quiz.title}: {self.slug}"


class Accommodation(models.Model):
    """A student's extra time (a factor on the limit, plus minutes) and extra attempts."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="accommodations")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accommodations"
    )
    time_factor = models.DecimalField(
        max_digits=4, decimal_places=2, default=1, validators=[MinValueValidator(1)]
    )
    extra_minutes = models.PositiveIntegerField(default=0)
    extra_attempts = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "student"], name="one_accommodation_per_student"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.student} in {self.course.code}: ×{self.time_factor} +{self.extra_minutes} min"
        )


class AttemptState(models.TextChoices):
    OPEN = "open", "In progress"
    SUBMITTED = "submitted", "Submitted"


class Attempt(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    number = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=AttemptState.choices, default=AttemptState.OPEN)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by_server = models.BooleanField(
        default=False, help_text="Submitted at its deadline by the server, with its saved answers."
    )
    layout = models.JSONField(
        default=list,
        help_text="The questions drawn for this attempt, in order, with each one's "
        "choice order: [{'question': pk, 'choices': [...]}].",
    )
    score = models.DecimalField(**POINTS, null=True, blank=True)
    max_score = models.DecimalField(**POINTS, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "student", "number"], name="attempt_number_unique"
            ),
            models.UniqueConstraint(
                fields=["quiz", "student"],
                condition=models.Q(state=AttemptState.OPEN),
                name="one_open_attempt_per_student",
            ),
        ]
        indexes = [models.Index(fields=["state", "deadline"])]
        ordering = ["quiz", "student", "number"]

    def __str__(self) -> str:
        return f"{self.quiz.title}: {self.student} #{self.number}"

    @property
    def question_pks(self) -> list[int]:
        return [entry["question"] for entry in self.layout]


class AnswerSave(models.Model):
    """One save of one answer, appended, never changed: the last accepted one counts. A save
    that was refused (too late, after submitting, or not an answer of the question's kind) is
    kept too (``accepted`` false, with why), as a record of what was refused."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="saves")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="saves")
    value = models.JSONField(
        help_text="The answer; for one refused as malformed, the JSON text received (cut short)."
    )
    saved_at = models.DateTimeField()
    accepted = models.BooleanField(default=True)
    refusal = models.CharField(max_length=300, blank=True, help_text="Why it was refused.")
    version = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The page's number for this answer of the question (it counts each change); "
        "a save numbered no higher than one already held is refused as superseded. None: the "
        "client sent none (the last save to arrive counts).",
    )

    class Meta:
        indexes = [models.Index(fields=["attempt", "question", "-saved_at"])]
        ordering = ["attempt", "saved_at", "pk"]

    def __str__(self) -> str:
        return f"{self.attempt} {self.question.slug} at {self.saved_at:%H:%M:%S}"


class AnswerGrade(models.Model):
    """The points an attempt's answer to a question earned: scored on submit, or by a TA (free
    text), or again after a key changed."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="grades")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="grades")
    points = models.DecimalField(**POINTS, null=True, blank=True)  # None: waits for a TA
    feedback = models.TextField(blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="one_grade_per_answer")
        ]

    def __str__(self) -> str:
        return f"{self.attempt} {self.question.slug}: {self.points}"


class QuestionChange(models.Model):
    """A change of a question's key or points after students answered it: what it was, what it
    became, who changed it and why, and every attempt score it changed."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300)
    old = models.JSONField(help_text="{'key': ..., 'points': ...} before.")
    new = models.JSONField(help_text="{'key': ..., 'points': ...} after.")
    keep_higher = models.BooleanField(default=False)
    changed_scores = models.JSONField(
        default=list, help_text="[{'student', 'attempt', 'old', 'new'}] for each score it changed."
    )

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.question} changed {self.changed_at:%Y-%m-%d %H:%M}"
