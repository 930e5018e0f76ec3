from django.urls import path

from courseapp.quizzes import views

urlpatterns = [
    path("quizzes/", views.quiz_list, name="quiz-list"),
    path("quizzes/import/", views.quiz_import, name="quiz-import"),
    path("quizzes/accommodations/", views.accommodations, name="quiz-accommodations"),
    path("quizzes/<slug:slug>/", views.quiz_detail, name="quiz-detail"),
    path("quizzes/<slug:slug>/export/", views.quiz_export, name="quiz-export"),
    path("quizzes/<slug:slug>/stats/", views.quiz_stats, name="quiz-stats"),
    path("quizzes/<slug:slug>/grading/", views.hand_grading, name="quiz-hand-grading"),
    path(
        "quizzes/<slug:slug>/questions/<slug:question>/change/",
        views.question_change,
        name="quiz-question-change",
    ),
    path(
        "quizzes/<slug:slug>/grading/<slug:question>/",
        views.hand_grading_question,
        name="quiz-hand-grading-question",
    ),
    path("quizzes/<slug:slug>/start/", views.attempt_start, name="quiz-start"),
    path("quizzes/<slug:slug>/attempts/<int:number>/", views.attempt_page, name="quiz-attempt"),
    path(
        "quizzes/<slug:slug>/attempts/<int:number>/submit/",
        views.attempt_submit,
        name="quiz-submit",
    ),
]
