from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """Role-aware course home pages and the course's navigation bar; no models."""

    name = "courseapp.dashboard"
    label = "dashboard"
    verbose_name = "Dashboards"
