"""Login lockout with django-axes: who is asking, and what a locked-out login is told.

Axes counts failed logins in the database (every web and API process shares it), per username and
per address; past ``AXES_FAILURE_LIMIT`` failures within ``AXES_COOLOFF_TIME`` a login is refused,
even with the right password, until the cool-off has passed or staff delete the attempts in the
admin (Axes › Access attempts).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render

LOCKED_STATUS = 429


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the socket's, or behind our TLS proxy (``BEHIND_TLS_PROXY``) the
    address that proxy appended last to ``X-Forwarded-For`` (a client can forge the ones before)."""
    request = getattr(request, "_request", request)  # a DRF request wraps Django's
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")


def cool_off_minutes() -> int:
    return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)


def lockout_message() -> str:
    return (
        f"Too many failed logins for this account or from this address: logging in is blocked "
        f"for {cool_off_minutes()} minutes after the last failed try, even with the right "
        "password. Wait, or ask course staff or an admin to unlock it."
    )


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """What Axes answers a locked-out login with (``AXES_LOCKOUT_CALLABLE``): JSON for the API,
    the lockout page otherwise; 429 either way."""
    request = getattr(request, "_request", request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=LOCKED_STATUS)
    context = {"message": lockout_message(), "minutes": cool_off_minutes()}
    return render(request, "registration/locked_out.html", context, status=LOCKED_STATUS)


def locked_out(request) -> bool:
    """Did Axes refuse this request's login (``AxesStandaloneBackend`` flags the request)?"""
    return bool(
        getattr(request, "axes_locked_out", False)
        or getattr(getattr(request, "_request", None), "axes_locked_out", False)
    )
