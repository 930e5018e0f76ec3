from django.urls import path

from autograder import views

urlpatterns = [
    path("assignments/", views.assignment_list, name="assignment-list"),
    path("assignments/import/", views.assignment_import, name="assignment-import"),
    path("assignments/<slug:slug>/", views.assignment_detail, name="assignment-detail"),
    path("assignments/<slug:slug>/files/<str:name>", views.download, name="assignment-download"),
    path("assignments/<slug:slug>/files.zip", views.download_zip, name="assignment-download-zip"),
    path("assignments/<slug:slug>/regrade/", views.regrade, name="assignment-regrade"),
    path(
        "assignments/<slug:slug>/regrade/progress.json",
        views.regrade_progress,
        name="assignment-regrade-progress",
    ),
    path("assignments/<slug:slug>/manual/", views.manual_grading, name="manual-grading"),
    path(
        "assignments/<slug:slug>/submissions/<int:number>/status.json",
        views.submission_status,
        name="submission-status",
    ),
    path(
        "assignments/<slug:slug>/submissions/<int:number>/feedback/",
        views.submission_feedback,
        name="submission-feedback",
    ),
]
