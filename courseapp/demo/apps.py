from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "courseapp.demo"
    label = "demo"
    verbose_name = "Demo course"
