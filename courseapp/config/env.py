"""The one place that reads the process environment.

Every setting that can change between a laptop, CI and production comes from an environment
variable with a working default for a first run: SQLite and a filesystem broker under ``var/`` when
nothing is set. Problems are raised as ``ConfigError`` with a message a newcomer can act on;
``manage.py`` prints that message instead of a traceback.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


class ConfigError(ImproperlyConfigured):
    """A setting that cannot work as given; the message says what to change."""


def env_str(name: str, default: str = "") -> str:
    """The variable's value; an empty value counts as unset, as in ``DATABASE_URL= make run``."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if not raw:  # unset or empty: the default, as for every variable here
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def writable_dir(path: Path, *, purpose: str, variable: str) -> Path:
    """Create ``path`` if needed and prove it is writable, or say which variable to change."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"{path} is not a writable directory ({exc.strerror or exc}); it holds {purpose}. "
            f"Fix its permissions or point {variable} at a directory you can write."
        ) from exc
    return path


SUPPORTED_ENGINES = ("django.db.backends.postgresql", "django.db.backends.sqlite3")
DATABASE_URL_EXAMPLES = "postgres://USER@HOST:5432/NAME or sqlite:////absolute/path/db.sqlite3"


def database_config(url: str) -> dict:
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        scheme = url.partition("://")[0] if "://" in url else url
        raise ConfigError(
            f"DATABASE_URL has an unknown scheme {scheme!r}; use {DATABASE_URL_EXAMPLES}."
        ) from exc
    if config.get("ENGINE") not in SUPPORTED_ENGINES:
        raise ConfigError(
            f"DATABASE_URL={redact_url(url)} is not PostgreSQL or SQLite, the two databases this "
            f"project supports; use {DATABASE_URL_EXAMPLES}."
        )
    if not config.get("NAME"):
        raise ConfigError(
            f"DATABASE_URL={redact_url(url)} names no database; use {DATABASE_URL_EXAMPLES}."
        )
    return config


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def secret_key(*, debug: bool, var_dir: Path) -> str:
    """SECRET_KEY from the environment; in DEBUG, one generated once into var/ and reused."""
    key = os.environ.get("SECRET_KEY", "")
    if key:
        if not debug:
            _require_strong(key)
        return key
    if not debug:
        raise ConfigError("SECRET_KEY must be set when DEBUG is off; there is no default secret.")
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        # Written whole to a private temporary file, then linked into place: when web, worker and
        # beat start together, one link wins and no process ever reads a half-written key.
        fd, temporary = tempfile.mkstemp(dir=var_dir, prefix=".secret_key-")
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(temporary, key_file)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    key = key_file.read_text().strip()
    if not key:
        raise ConfigError(f"{key_file} is empty; delete it and a new key is generated.")
    return key


def _require_strong(key: str) -> None:
    """Django's own rule for a production key (``check --deploy``, security.W009), enforced: at
    least 50 characters, at least 5 different ones, and not one of startproject's insecure keys."""
    weak = (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )
    if weak:
        raise ConfigError(
            f"SECRET_KEY is too weak for DEBUG=0 ({len(key)} characters, {len(set(key))} "
            f"different): use at least {SECRET_KEY_MIN_LENGTH} random characters, not starting "
            f"with {SECRET_KEY_INSECURE_PREFIX!r}, for example the output of "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
