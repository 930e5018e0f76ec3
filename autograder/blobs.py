"""Content-addressed file storage: a file is stored once under its sha256 and never changed.

Lives under ``MEDIA_ROOT/blobs`` (not served by the site: downloads go through views that check
who may read what).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings


def root() -> Path:
    path = Path(settings.MEDIA_ROOT) / "blobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(sha256: str) -> Path:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return root() / sha256[:2] / sha256


def put(data: bytes) -> str:
    """Store ``data``; return its sha256. Storing the same bytes again is a no-op."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    if target.exists():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, target)  # atomic: readers see the whole file or none
    return digest


def get(sha256: str) -> bytes:
    return path_for(sha256).read_bytes()
