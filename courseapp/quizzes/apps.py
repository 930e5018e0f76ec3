from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "courseapp.quizzes"
    label = "quizzes"
    verbose_name = "Quizzes"
