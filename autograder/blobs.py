"""Content-addressed file storage: a file is stored once under its sha256 and never changed.

Every file of the autograder (submissions, assignment sources and data, executed notebooks) lives
here, in the Django storage ``settings.STORAGES["blobs"]``: a directory under ``MEDIA_ROOT`` by
default, or an S3-compatible bucket when ``STORAGE_URL`` names one, so that workers on other
machines read what the web process stored. Nothing here is served by the site: downloads go
through views that check who may read what.

A file's key is ``ab/abcdef…`` (its sha256, under its first two hex digits), relative to the
storage's root (``MEDIA_ROOT/blobs``, or ``[PREFIX/]blobs`` in the bucket).
"""

from __future__ import annotations

import contextlib
import hashlib

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from autograder.failures import InfrastructureFault

ALIAS = "blobs"
HEX = frozenset("0123456789abcdef")
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class BlobMissing(FileNotFoundError):
    """No file is stored under this sha256. A ``FileNotFoundError``, so that grading counts it as
    a missing file (``failures.worker_resources``: retried, never a score)."""


class BlobCorrupt(InfrastructureFault):
    """What is stored under a sha256 is not the file of that sha256. An infrastructure fault:
    grading is retried, then failed for staff, and never scores the damaged bytes."""


class StorageUnreachable(InfrastructureFault):
    """The bucket did not answer, or refused us (network, credentials, a server error). A
    worker retries the grading; a page or the API answers 503 with ``FOR_PEOPLE``
    (``courseapp.config.unavailable``), never a bare 500."""

    FOR_PEOPLE = (
        "The file store is not answering right now, so nothing was stored or read. "
        "Try again in a minute; if it lasts, tell the course staff."
    )


def storage() -> Storage:
    """The storage that holds blobs, as the settings name it now (read at each use, so that
    ``override_settings(STORAGES=...)`` takes effect)."""
    return storages[ALIAS]


def where() -> str:
    """Where the files are, as a worker says when it starts (a worker on another machine than
    the web that says "this machine's disk" has no STORAGE_URL, and will find nothing)."""
    blobs = storage()
    bucket = getattr(blobs, "bucket_name", None)
    if bucket:
        return f"bucket {bucket}/{blobs.location} at {blobs.endpoint_url or 'AWS S3'}"
    return f"{blobs.location} on this machine's disk (STORAGE_URL unset)"


def key_for(sha256: str) -> str:
    if len(sha256) != 64 or not HEX.issuperset(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return f"{sha256[:2]}/{sha256}"


def put(data: bytes) -> str:
    """Store ``data``; return its sha256. Storing the same bytes again writes nothing: an existing
    key is never rewritten."""
    digest = hashlib.sha256(data).hexdigest()
    key = key_for(digest)
    blobs = storage()
    with _faults(digest):
        if blobs.exists(key):
            return digest
        saved = blobs.save(key, ContentFile(data))
    if saved != key:
        raise RuntimeError(f"the blobs storage stored {digest} as {saved!r}, not {key!r}")
    return digest


def get(sha256: str) -> bytes:
    """The bytes stored under ``sha256``, checked against it: a file cut short by a crash or
    changed in the bucket raises ``BlobCorrupt`` rather than being graded as the student's."""
    with open(sha256) as handle, _faults(sha256):
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise BlobCorrupt(
            f"the {len(data)} bytes stored under {sha256} are not the file of that sha256 "
            "(cut short by a crash, or changed in storage)"
        )
    return data


def open(sha256: str) -> File:  # the storage API's word; shadows the builtin in this module only
    """The stored file, opened for reading in binary; the caller closes it (a ``FileResponse``
    does). Raises ``BlobMissing`` at once when nothing is stored under ``sha256``."""
    with _faults(sha256):
        return storage().open(key_for(sha256), "rb")


@contextlib.contextmanager
def _faults(sha256: str):
    """The storage's failures as this module's two kinds: no such blob, or storage unreachable."""
    try:
        yield
    except BlobMissing:
        raise
    except FileNotFoundError as exc:
        raise BlobMissing(f"no file is stored under {sha256} ({exc})") from exc
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in NOT_FOUND:
            raise BlobMissing(f"no file is stored under {sha256} in the bucket") from exc
        raise StorageUnreachable(f"the bucket refused {sha256}: {exc}") from exc
    except NoCredentialsError as exc:
        raise StorageUnreachable(
            "no credentials for the bucket on this machine: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
        ) from exc
    except BotoCoreError as exc:
        raise StorageUnreachable(f"the bucket could not be reached for {sha256}: {exc}") from exc
