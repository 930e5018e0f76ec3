"""gunicorn's settings for the site (``deploy/bin/web`` passes ``--config
python:courseapp.config.gunicorn``): what each worker process does once it has started.

The application itself is loaded once, before the workers fork (``--preload``; see ``wsgi.py``).
"""

from __future__ import annotations


def post_worker_init(worker) -> None:
    """Start a formula judge in the new worker, so that the first student to submit a quiz with a
    formula after a (re)start does not wait for SymPy to load: on exam day every worker's first
    submits come at once."""
    from courseapp.quizzes import judge

    judge.warm()
