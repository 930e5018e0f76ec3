from django.contrib import admin

from grading.models import (
    Component,
    Extension,
    GradedItem,
    GradeRelease,
    GradingScheme,
    RegradeRequest,
    Score,
    ScoreHistory,
)
from grading.services.scores import graded_item_update


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is read, not written, in the admin: changes go through grading.services."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GradingScheme)
class GradingSchemeAdmin(ReadOnlyAdmin):
    list_display = ["course", "version", "rounding", "created_at", "created_by", "note"]
    list_filter = ["course", "rounding"]
    search_fields = ["course__code", "course__title", "note"]


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "position"]
    list_filter = ["course"]
    search_fields = ["name"]


@admin.register(GradedItem)
class GradedItemAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "component", "kind", "max_points", "due_at", "published"]
    list_filter = ["course", "component", "kind", "published", "team_graded"]
    search_fields = ["name", "component__name"]
    list_select_related = ["course", "component"]
    date_hierarchy = "due_at"

    def save_model(self, request, obj, form, change):
        """Through the service, so scores whose final points move get a history entry."""
        if not change:
            return super().save_model(request, obj, form, change)
        original = GradedItem.objects.get(pk=obj.pk)
        changes = {name: getattr(obj, name) for name in form.changed_data}
        for name in changes:
            setattr(obj, name, getattr(original, name))
        graded_item_update(item=obj, by=request.user, reason="edited in the admin", **changes)


class ScoreHistoryInline(admin.TabularInline):
    model = ScoreHistory
    extra = 0
    can_delete = False
    readonly_fields = ["changed_at", "changed_by", "source", "reason", "old", "new"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = ["student", "item", "status", "raw_points", "override_points", "source"]
    list_filter = ["item__course", "item__component", "status", "source", "item"]
    search_fields = ["student__username", "student__last_name", "item__name"]
    list_select_related = ["student", "item"]
    inlines = [ScoreHistoryInline]


@admin.register(ScoreHistory)
class ScoreHistoryAdmin(ReadOnlyAdmin):
    list_display = ["score", "changed_at", "changed_by", "source", "reason"]
    list_filter = ["source", "score__item__course"]
    search_fields = ["score__student__username", "score__item__name", "reason"]
    list_select_related = ["score__student", "score__item", "changed_by"]


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    list_display = ["student", "item", "due_at", "reason", "granted_by", "granted_at"]
    list_filter = ["item__course", "item"]
    search_fields = ["student__username", "student__last_name", "item__name", "reason"]


@admin.register(RegradeRequest)
class RegradeRequestAdmin(ReadOnlyAdmin):
    list_display = ["score", "status", "created_at", "resolved_by", "resolved_at"]
    list_filter = ["status", "score__item__course"]
    search_fields = ["score__student__username", "score__item__name", "message", "reply"]


@admin.register(GradeRelease)
class GradeReleaseAdmin(ReadOnlyAdmin):
    list_display = ["course", "scheme", "released_at", "released_by"]
    list_filter = ["course"]
