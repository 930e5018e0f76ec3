"""Settings for the test suite: the real ones, made fast.

The database and the broker stay whatever the environment says (PostgreSQL and Redis in CI, SQLite
and the embedded Redis server on a laptop, which the test session starts on ``var/test``'s socket);
only what slows tests down without testing anything is replaced. The cache is the real shared one
too (the login throttle is tested across processes).
"""

import os
import uuid
from pathlib import Path

# Tests keep their own var/ (database, broker socket, media), apart from the one `make run` uses.
os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parents[2] / "var" / "test"))

from courseapp.config.settings import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
LOGGING["root"]["level"] = "WARNING"

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: a real worker process started by a test reads the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}

# Keep each test run's messages apart from a development worker and from other runs on the same
# Redis. The id is set once per run; the worker processes a test starts inherit it.
os.environ.setdefault("TEST_RUN_ID", uuid.uuid4().hex[:12])
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": f"test-{os.environ['TEST_RUN_ID']}:",
}

# The cache stays the real shared one (Redis or the database table): the login throttle's tests
# count requests across processes. On Redis, each run keeps its own keys.
if CACHE_REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = f"test-{os.environ['TEST_RUN_ID']}"
