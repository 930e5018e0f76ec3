"""The API's token authentication: DRF's, with the token and its user read by a statement compiled
once (``courseapp.prepared``), since every API request of a class on exam day reads it."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from courseapp.prepared import prepared


@prepared(str)
def _token(key: str) -> QuerySet[Token]:
    return Token.objects.select_related("user").filter(key=key).order_by()[:21]


class PreparedTokenAuthentication(TokenAuthentication):
    """``TokenAuthentication`` answering alike (the same errors, the same user and token)."""

    def authenticate_credentials(self, key):
        if self.get_model() is not Token:  # a subclass naming another model: DRF's own read
            return super().authenticate_credentials(key)
        found = list(_token(key))
        if not found:  # the key is the table's primary key: one row or none
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token = found[0]
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
