"""The course site's domain apps (accounts, courses, quizzes, dashboard, demo).

The project's configuration (settings, root URLconf, Celery app, WSGI/ASGI) lives apart in
``courseapp.config``; nothing here imports it, so importing a course model does not load Celery.
"""
