"""``POST /api/auth/token/``: a token for the API, guarded against password guessing twice over:
Axes locks the username and the address out after repeated failures (as on the login page), and
a throttle on the shared cache limits requests per address."""

from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.throttling import ScopedRateThrottle

from courseapp.accounts.lockout import locked_out, lockout_response


class TokenApi(ObtainAuthToken):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"  # its rate is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"]

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            if locked_out(request):  # say so, rather than "wrong credentials"
                return lockout_response(request)
            raise
