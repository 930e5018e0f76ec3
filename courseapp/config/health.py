"""``/healthz``: answers 200 when the site can reach its database, 503 when it cannot."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import JsonResponse


def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return JsonResponse({"database": f"error: {exc.__class__.__name__}"}, status=503)
    return JsonResponse({"database": "ok"})
