"""``POST /api/auth/token/``: a token for the API, rate-limited against password guessing."""

from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import ScopedRateThrottle


class TokenApi(ObtainAuthToken):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"  # its rate is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"]
