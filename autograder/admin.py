from django.contrib import admin

from autograder.models import (
    Assignment,
    AssignmentFile,
    GradingRun,
    ManualGrade,
    Submission,
    SubmissionFile,
    WorkerHeartbeat,
)


class AssignmentFileInline(admin.TabularInline):
    model = AssignmentFile
    extra = 0
    readonly_fields = ["role", "name", "sha256", "size"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "course", "item", "kind", "wants_gpu", "max_submissions"]
    list_filter = ["course", "kind", "wants_gpu"]
    search_fields = ["slug", "title"]
    inlines = [AssignmentFileInline]


@admin.register(AssignmentFile)
class AssignmentFileAdmin(admin.ModelAdmin):
    list_display = ["assignment", "role", "name", "size"]
    list_filter = ["role", "assignment__course"]
    search_fields = ["name", "assignment__slug"]


class SubmissionFileInline(admin.TabularInline):
    model = SubmissionFile
    extra = 0
    readonly_fields = ["name", "sha256", "size"]


class GradingRunInline(admin.StackedInline):
    model = GradingRun
    extra = 0
    readonly_fields = [
        "worker",
        "isolation",
        "device",
        "started_at",
        "finished_at",
        "duration_seconds",
        "score",
        "max_score",
        "tests",
        "log",
        "error",
        "executed_notebooks",
    ]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["assignment", "student", "number", "state", "score", "max_score", "created_at"]
    list_filter = ["state", "assignment__course", "assignment"]
    search_fields = ["student__username", "student__last_name", "assignment__slug"]
    list_select_related = ["assignment", "student"]
    readonly_fields = [
        "created_at",
        "state_changed_at",
        "attempts",
        "claimed_by",
        "claimed_worker",
        "sent_at",
    ]
    inlines = [SubmissionFileInline, GradingRunInline]


@admin.register(SubmissionFile)
class SubmissionFileAdmin(admin.ModelAdmin):
    list_display = ["submission", "name", "size", "sha256"]
    search_fields = ["name", "sha256", "submission__student__username"]


@admin.register(GradingRun)
class GradingRunAdmin(admin.ModelAdmin):
    list_display = [
        "submission",
        "isolation",
        "device",
        "worker",
        "score",
        "max_score",
        "duration_seconds",
        "started_at",
    ]
    list_filter = ["isolation", "device", "submission__assignment"]
    search_fields = ["submission__student__username", "worker"]


@admin.register(ManualGrade)
class ManualGradeAdmin(admin.ModelAdmin):
    list_display = ["submission", "grade_id", "points", "graded_by", "graded_at"]
    list_filter = ["submission__assignment"]
    search_fields = ["submission__student__username", "grade_id", "comment"]
    list_select_related = ["submission__student", "submission__assignment", "graded_by"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    """Read-only: workers write these rows themselves."""

    list_display = ["hostname", "isolation", "device", "queues", "last_seen_at", "stopped_at"]
    list_filter = ["isolation", "device"]
    readonly_fields = [f.name for f in WorkerHeartbeat._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
