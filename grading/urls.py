from django.urls import path

from grading.views import scheme, staff, student

urlpatterns = [
    path("gradebook/", staff.gradebook, name="gradebook"),
    path("gradebook/export.csv", staff.export_csv, name="gradebook-export"),
    path("gradebook/import/", staff.import_csv, name="gradebook-import"),
    path("gradebook/items/<int:item_id>/publish/", staff.item_publish, name="item-publish"),
    path("gradebook/items/<int:item_id>/teams/", staff.team_scores, name="team-scores"),
    path(
        "gradebook/items/<int:item_id>/students/<str:username>/",
        staff.score_detail,
        name="score-detail",
    ),
    path("regrades/", staff.regrade_queue, name="regrade-queue"),
    path("extensions/", staff.extensions, name="extensions"),
    path("scheme/", scheme.scheme_page, name="grading-scheme"),
    path("scheme/release/", scheme.grades_release, name="grades-release"),
    path("grades/", student.my_grades, name="my-grades"),
    path("grades/<int:item_id>/", student.my_score, name="my-score"),
]
