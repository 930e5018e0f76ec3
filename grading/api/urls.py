from django.urls import path

from grading.api import gradebook, regrades, scheme, scores, student

COURSE = "courses/<slug:course_code>/"
SCORE = COURSE + "items/<int:item_id>/scores/<str:username>/"
REGRADE = COURSE + "regrades/<int:request_id>/"

urlpatterns = [
    path(COURSE + "gradebook/", gradebook.GradebookApi.as_view(), name="api-gradebook"),
    path(COURSE + "gradebook/import/", gradebook.GradebookImportApi.as_view(), name="api-import"),
    path(COURSE + "grades/release/", gradebook.GradesReleaseApi.as_view(), name="api-release"),
    path(COURSE + "items/", gradebook.ItemListApi.as_view(), name="api-items"),
    path(
        COURSE + "items/<int:item_id>/publish/",
        gradebook.ItemPublishApi.as_view(),
        name="api-item-publish",
    ),
    path(
        COURSE + "items/<int:item_id>/team-scores/",
        gradebook.TeamScoreApi.as_view(),
        name="api-team-scores",
    ),
    path(SCORE, scores.ScoreDetailApi.as_view(), name="api-score"),
    path(SCORE + "set/", scores.ScoreSetApi.as_view(), name="api-score-set"),
    path(SCORE + "override/", scores.ScoreOverrideApi.as_view(), name="api-score-override"),
    path(
        SCORE + "clear-override/",
        scores.ScoreOverrideClearApi.as_view(),
        name="api-score-clear-override",
    ),
    path(SCORE + "status/", scores.ScoreStatusApi.as_view(), name="api-score-status"),
    path(SCORE + "extension/", scores.ExtensionApi.as_view(), name="api-score-extension"),
    path(SCORE + "adjust/", scores.TeamAdjustmentApi.as_view(), name="api-score-adjust"),
    path(COURSE + "grades/me/", student.MyGradesApi.as_view(), name="api-my-grades"),
    path(
        COURSE + "grades/me/<int:item_id>/history/",
        student.MyScoreHistoryApi.as_view(),
        name="api-my-score-history",
    ),
    path(COURSE + "regrades/mine/", student.MyRegradesApi.as_view(), name="api-my-regrades"),
    path(COURSE + "regrades/", regrades.RegradeQueueApi.as_view(), name="api-regrades"),
    path(REGRADE + "accept/", regrades.RegradeAcceptApi.as_view(), name="api-regrade-accept"),
    path(REGRADE + "decline/", regrades.RegradeDeclineApi.as_view(), name="api-regrade-decline"),
    path(COURSE + "scheme/", scheme.SchemeApi.as_view(), name="api-scheme"),
    path(COURSE + "scheme/preview/", scheme.SchemePreviewApi.as_view(), name="api-scheme-preview"),
]
