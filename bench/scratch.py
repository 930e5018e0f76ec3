"""A benchmark's own database, never your data: a SQLite file in the bench's scratch folder, or,
when ``DATABASE_URL`` names a PostgreSQL server, a scratch database of the bench's name created
there and dropped after."""

from __future__ import annotations

import os
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
