from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courseapp.courses"
    label = "courses"
    verbose_name = "Courses"
