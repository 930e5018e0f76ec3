"""Reading the files named on a command line, for the autograder's commands."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError


def read_files(paths) -> dict[str, bytes]:
    """File name to content; a folder stands for the files in it (an nbgrader assignment folder,
    ``source/ps1`` or ``submitted/bitdiddle/ps1``), hidden ones left out. A file that cannot be
    read, or two of the same name, stop the command with why."""
    files = {}
    for path in _expanded(map(Path, paths)):
        if path.name in files:
            raise CommandError(f"Two files are named {path.name}.")
        try:
            files[path.name] = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
    return files


def _expanded(paths):
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
            )
        else:
            yield path
