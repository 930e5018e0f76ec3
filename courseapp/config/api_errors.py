"""DRF exception handling: a service's Django ValidationError becomes a 400 with its messages; a
service the site needs that did not answer (``courseapp.config.unavailable``), a 503 that says
so."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from courseapp.config.unavailable import unavailable_message


def exception_handler(exc, context):
    message = unavailable_message(exc)
    if message is not None:
        return Response(
            {"detail": message},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "60"},
        )
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)
