from django.apps import AppConfig


class AutograderConfig(AppConfig):
    name = "autograder"
    verbose_name = "Autograder"
