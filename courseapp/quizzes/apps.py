from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "courseapp.quizzes"
    label = "quizzes"
    verbose_name = "Quizzes"

    def ready(self) -> None:
        # Inside ready(): these import models, which the app registry allows only from now on.
        from courseapp.quizzes.selectors import quiz_items_hidden
        from grading.visibility import hidden_items_rule

        # A quiz's score reaches a student's grades only when its review policy allows.
        hidden_items_rule(quiz_items_hidden)
