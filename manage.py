#!/usr/bin/env python
"""Django's command-line utility, with one-line messages for a broken configuration."""

import os
import sys

from django.core.management import execute_from_command_line
from django.db.utils import OperationalError

from courseapp.config.env import ConfigError, redact_url


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.settings")
    try:
        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        sys.exit(f"Configuration error: {exc}")
    except OperationalError as exc:
        url = redact_url(os.environ.get("DATABASE_URL", "(default SQLite under var/)"))
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        sys.exit(
            f"Database error with DATABASE_URL={url}: {first_line}\n"
            "Check that the database server is running and that the URL names a database "
            "you can reach."
        )


if __name__ == "__main__":
    main()
