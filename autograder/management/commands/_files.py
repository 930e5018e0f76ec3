"""Reading the files named on a command line, for the autograder's commands."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError


def read_files(paths) -> dict[str, bytes]:
    """File name to content; a file that cannot be read stops the command with why."""
    files = {}
    for path in map(Path, paths):
        try:
            files[path.name] = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
    return files
