"""The Celery application: settings come from Django's, under the ``CELERY_`` prefix.

Workers and beat start with ``celery -A courseapp.config``. Tasks are declared with
``celery.shared_task`` (autograding tasks with ``autograder.queues.grading_task``), so no app
imports this module.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.settings")

app = Celery("courseapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
