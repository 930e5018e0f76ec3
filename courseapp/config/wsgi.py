"""The WSGI entry point (``gunicorn courseapp.config.wsgi``).

Loading it also loads the URLconf and everything it imports, which Django otherwise leaves to
each process's first request: about 2 s of CPU (the notebook pages pull in nbformat, jsonschema
and rfc3987_syntax, which builds a grammar), 15 s for the first start of a quiz when a class
starts at once. With ``gunicorn --preload`` (deploy/bin/web) that is done once, before the
workers fork, and shared by them.

Then everything loaded so far (about 250,000 objects) is moved out of the garbage collector's
reach (``gc.freeze``): it lives as long as the process, yet each full collection walked all of it,
about 125 ms of CPU in the middle of whichever request triggered it, the slowest saves and submits
of the exam-day bench. Frozen before the fork, the workers' collections see only what the
requests made, and the pages the workers share stay shared.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.settings")
application = get_wsgi_application()


def _load_urlconf() -> None:
    from django.db import connections
    from django.urls import get_resolver

    from courseapp.prepared import compile_all

    get_resolver().reverse_dict  # noqa: B018 - imports every URLconf and view, fills the table
    compile_all()  # exam day's reads (courseapp/prepared.py), which those imports defined
    # Nothing opened here may be inherited by forked workers (a SQLite file shared mid-use).
    connections.close_all()


_load_urlconf()
gc.freeze()
