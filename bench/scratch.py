"""A benchmark's own database, never your data: a SQLite file in the bench's scratch folder, or,
when ``DATABASE_URL`` names a PostgreSQL server, a scratch database of the bench's name created
there and dropped after."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def database(scratch: Path, name: str) -> tuple[str, Callable[[], None]]:
    """The scratch database's URL, and what drops it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{scratch / f'{name}.sqlite3'}", lambda: None
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    _postgres(admin, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    return (
        urlunsplit(parts._replace(path=f"/{name}")),
        lambda: _postgres(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )


def _postgres(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def worker_environment(scratch: Path, name: str) -> Callable[[], None]:
    """This process's (and so its workers') settings for a bench that grades through real
    workers: the scratch VAR_DIR and database ``name``, the site as in production (DEBUG off), the
    test settings only for their per-run key prefix on the broker (a shared REDIS_URL's other
    workers never see these messages). Returns what drops the scratch database."""
    url, drop = database(scratch, name)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "courseapp.config.test_settings",
            "TEST_RUN_ID": f"bench-{uuid.uuid4().hex[:8]}",
            "VAR_DIR": str(scratch / "var"),
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
        }
    )
    return drop
