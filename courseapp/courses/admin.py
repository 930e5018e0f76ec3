from django.contrib import admin
from django.db.models import Count

from courseapp.courses.models import Course, Enrollment, Lecture, Team, TeamMembership


class LectureInline(admin.TabularInline):
    model = Lecture
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "term", "timezone", "created_at"]
    list_filter = ["term"]
    search_fields = ["code", "title", "term"]
    inlines = [LectureInline]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "user_full_name", "course", "role", "team", "created_at"]
    list_filter = ["course", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user", "course", "team_membership__team"]
    autocomplete_fields = ["user"]

    @admin.display(description="Full name", ordering="user__last_name")
    def user_full_name(self, enrollment: Enrollment) -> str:
        return enrollment.user.get_full_name()

    @admin.display(description="Team")
    def team(self, enrollment: Enrollment) -> str:
        membership = getattr(enrollment, "team_membership", None)
        return membership.team.name if membership else "—"


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["enrollment"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "member_count"]
    list_filter = ["course"]
    search_fields = ["name", "memberships__enrollment__user__username"]
    inlines = [TeamMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("memberships"))

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, team: Team) -> int:
        return team.member_total


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "team"]
    list_filter = ["team__course", "team"]
    search_fields = ["team__name", "enrollment__user__username", "enrollment__user__last_name"]
    autocomplete_fields = ["enrollment", "team"]


@admin.register(Lecture)
class LectureAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "course", "date"]
    list_filter = ["course"]
    search_fields = ["title"]
    date_hierarchy = "date"
