"""The WSGI entry point (``gunicorn courseapp.config.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.settings")
application = get_wsgi_application()
