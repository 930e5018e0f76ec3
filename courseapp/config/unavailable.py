"""A service the site needs did not answer: a 503 that says so, not a bare 500.

Today that service is the bucket that holds the autograder's files (``autograder.blobs``): a
student's upload while it is down is refused whole (no submission is stored without its files)
and told to try again; the same for a download. The API says the same through
``courseapp.config.api_errors``.
"""

from __future__ import annotations

import logging

from django.shortcuts import render

from autograder.blobs import StorageUnreachable

logger = logging.getLogger(__name__)
UNAVAILABLE = (StorageUnreachable,)


def unavailable_message(exc: BaseException) -> str | None:
    """What to tell people when ``exc`` is a service that did not answer; None otherwise."""
    if isinstance(exc, UNAVAILABLE):
        logger.error("%s %s", type(exc).__name__, exc)
        return exc.FOR_PEOPLE
    return None


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        message = unavailable_message(exception)
        if message is None:
            return None
        response = render(request, "503.html", {"message": message}, status=503)
        response["Retry-After"] = "60"
        return response
