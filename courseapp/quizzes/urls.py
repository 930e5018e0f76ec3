from django.urls import path

from courseapp.quizzes import views

urlpatterns = [
    path("quizzes/", views.quiz_list, name="quiz-list"),
    path("quizzes/import/", views.quiz_import, name="quiz-import"),
    path("quizzes/<slug:slug>/", views.quiz_detail, name="quiz-detail"),
    path("quizzes/<slug:slug>/export/", views.quiz_export, name="quiz-export"),
    path("quizzes/<slug:slug>/start/", views.attempt_start, name="quiz-start"),
    path("quizzes/<slug:slug>/attempts/<int:number>/", views.attempt_page, name="quiz-attempt"),
    path(
        "quizzes/<slug:slug>/attempts/<int:number>/submit/",
        views.attempt_submit,
        name="quiz-submit",
    ),
]
