"""Every quiz model in the admin. The answer log is read-only: saves are appended by the site,
never edited, so that what a student saved can always be shown."""

from django.contrib import admin

from courseapp.quizzes.models import (
    Accommodation,
    AnswerGrade,
    AnswerSave,
    Attempt,
    Pool,
    Question,
    QuestionChange,
    Quiz,
)


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = ["slug", "position", "kind", "pool", "points", "prompt", "choices", "key"]


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "lecture", "opens_at", "closes_at", "time_limit"]
    list_filter = ["course"]
    search_fields = ["title", "slug"]
    inlines = [QuestionInline]


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["name", "quiz", "draw"]
    search_fields = ["name", "quiz__title"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["slug", "quiz", "kind", "points", "pool"]
    list_filter = ["kind", "quiz__course"]
    search_fields = ["slug", "prompt", "quiz__title"]


@admin.register(Accommodation)
class AccommodationAdmin(admin.ModelAdmin):
    list_display = ["student", "course", "time_factor", "extra_minutes", "extra_attempts"]
    list_filter = ["course"]
    search_fields = ["student__username", "student__last_name"]


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["quiz", "student", "number", "state", "started_at", "deadline", "score"]
    list_filter = ["state", "quiz__course", "quiz"]
    search_fields = ["student__username", "student__last_name", "quiz__title"]
    readonly_fields = ["layout"]


@admin.register(AnswerSave)
class AnswerSaveAdmin(admin.ModelAdmin):
    list_display = ["attempt", "question", "saved_at", "accepted", "refusal"]
    list_filter = ["accepted", "attempt__quiz"]
    search_fields = ["attempt__student__username", "question__slug"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(AnswerGrade)
class AnswerGradeAdmin(admin.ModelAdmin):
    list_display = ["attempt", "question", "points", "graded_by", "graded_at"]
    list_filter = ["attempt__quiz"]
    search_fields = ["attempt__student__username", "question__slug"]


@admin.register(QuestionChange)
class QuestionChangeAdmin(admin.ModelAdmin):
    """The log of key and points changes: written by the regrade, read here."""

    list_display = ["question", "changed_by", "changed_at", "reason", "keep_higher"]
    list_filter = ["question__quiz"]
    search_fields = ["question__slug", "reason"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False
