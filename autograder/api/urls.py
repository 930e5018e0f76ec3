from django.urls import path

from autograder.api import views

ASSIGNMENT = "courses/<slug:course_code>/assignments/<slug:slug>/"

urlpatterns = [
    path(ASSIGNMENT + "submissions/", views.SubmissionListApi.as_view(), name="api-submissions"),
    path(
        ASSIGNMENT + "submissions/<int:submission_id>/results/",
        views.SubmissionResultsApi.as_view(),
        name="api-submission-results",
    ),
    path(ASSIGNMENT + "regrade/", views.AssignmentRegradeApi.as_view(), name="api-regrade-all"),
]
