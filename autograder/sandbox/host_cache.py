"""Facts about this host that are costly to measure and change only when the installation does
(what ``import torch`` maps: seconds of a child process), kept on disk so that a new worker
process reads them instead of measuring again.

One small JSON file per fact and key, ``{"key": ..., "value": ...}``, in a folder only the
worker's user may write (``cache_dir``). The key names everything the value depends on; a file
whose key differs, that does not parse, or that someone else could have written is ignored (the
caller measures again and overwrites it). Files are written whole or not at all (a temporary
file, then ``os.replace``), so two processes measuring at once each leave a complete file.

Settings-free: this runs in the sandbox layer, which never imports Django.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import tempfile
from pathlib import Path

CACHE_DIR_ENV = "AUTOGRADER_CACHE_DIR"
MAX_FILE_BYTES = 64 * 1024
logger = logging.getLogger(__name__)


def cache_dir() -> Path | None:
    """``$AUTOGRADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/autograder``, else
    ``~/.cache/autograder``, else ``autograder-<uid>`` in the temporary folder; created 0700.
    None when it cannot be made or is not the worker's own (another user could plant a value
    there: a memory limit is computed from one)."""
    for folder in _candidates():
        with contextlib.suppress(OSError):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if _private(os.stat(folder)):
                return folder
            logger.warning("cache folder %s is not uid %d's alone: not used", folder, os.geteuid())
    return None


def _candidates() -> list[Path]:
    if os.environ.get(CACHE_DIR_ENV):
        return [Path(os.environ[CACHE_DIR_ENV])]
    found = []
    if os.environ.get("XDG_CACHE_HOME"):
        found.append(Path(os.environ["XDG_CACHE_HOME"]) / "autograder")
    home = os.path.expanduser("~")
    if home != "~":
        found.append(Path(home) / ".cache" / "autograder")
    found.append(Path(tempfile.gettempdir()) / f"autograder-{os.geteuid()}")
    return found


def _private(info: os.stat_result) -> bool:
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _path(folder: Path, name: str, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return folder / f"{name}-{digest}.json"


def read(name: str, key: dict):
    """The value kept for ``name`` under exactly ``key``, or None."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        fd = os.open(_path(folder, name, key), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _private(info):
            return None
        kept = json.loads(os.read(fd, MAX_FILE_BYTES))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    if not isinstance(kept, dict) or kept.get("key") != key:
        return None
    return kept.get("value")


def write(name: str, key: dict, value) -> None:
    """Keep ``value`` for ``name`` under ``key``; a failure is logged, never raised (the value is
    only measured again)."""
    folder = cache_dir()
    if folder is None:
        return
    target = _path(folder, name, key)
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w") as file:
                json.dump({"key": key, "value": value}, file, sort_keys=True)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:
        logger.warning("could not keep %s in %s", name, folder, exc_info=True)
