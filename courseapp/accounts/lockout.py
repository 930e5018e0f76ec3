"""Login lockout with django-axes: who is asking, and what a locked-out login is told.

Axes counts failed logins in the database (every web and API process shares it). Past
``AXES_FAILURE_LIMIT`` failures for one username (from any address) within ``AXES_COOLOFF_TIME``, a
login to that account is refused, even with the right password, until the cool-off has passed or
staff delete the attempts in the admin (Axes › Access attempts).

One address is held to a far larger count, ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures for any
usernames (``LoginLockoutBackend``): one password tried on many accounts is stopped, but a class
behind one campus NAT address, where each student may mistype once on exam day, is not locked out
by a handful of typos (Axes has one limit for every parameter it counts, so that rule is here).
"""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils import timezone

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


def address_failures(address: str | None) -> int:
    """Failed logins from ``address``, for any username, within the cool-off (Axes's rows)."""
    if not address:
        return 0
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    found = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since)
    return found.aggregate(n=Sum("failures_since_start"))["n"] or 0


class LoginLockoutBackend(AxesStandaloneBackend):
    """Axes's check (per username), then the address's own, larger limit."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None:
            address = client_ip(request)
            if address_failures(address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
                request.axes_locked_out = True
                raise AxesBackendPermissionDenied("Too many failed logins from this address.")
        return super().authenticate(request, username=username, password=password, **kwargs)
