from django.urls import path

from courseapp.quizzes.api import views

COURSE = "courses/<slug:course_code>/"
QUIZ = COURSE + "quizzes/<slug:slug>/"
ATTEMPT = QUIZ + "attempts/<int:number>/"

urlpatterns = [
    path(COURSE + "quizzes/", views.QuizListApi.as_view(), name="api-quizzes"),
    path(COURSE + "quizzes/import/", views.QuizImportApi.as_view(), name="api-quiz-import"),
    path(QUIZ + "export/", views.QuizExportApi.as_view(), name="api-quiz-export"),
    path(QUIZ + "attempts/", views.AttemptStartApi.as_view(), name="api-attempt-start"),
    path(
        QUIZ + "questions/<slug:question>/change/",
        views.QuestionChangeApi.as_view(),
        name="api-question-change",
    ),
    path(ATTEMPT, views.AttemptApi.as_view(), name="api-attempt"),
    path(ATTEMPT + "answers/<slug:question>/", views.AnswerApi.as_view(), name="api-answer"),
    path(ATTEMPT + "submit/", views.AttemptSubmitApi.as_view(), name="api-attempt-submit"),
    path(
        COURSE + "accommodations/<str:username>/",
        views.AccommodationApi.as_view(),
        name="api-accommodation",
    ),
]
