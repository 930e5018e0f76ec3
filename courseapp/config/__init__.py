"""The project's configuration: settings, the root URLconf, the Celery app, WSGI and ASGI.

Apps never import this package; they read ``django.conf.settings`` and reach Celery through
``celery.shared_task`` and ``celery.current_app``. Loading the settings loads the Celery app (as
cookiecutter-django does), so that every process that runs Django has it as its current app.
"""

from courseapp.config.celery import app as celery_app

__all__ = ("celery_app",)
