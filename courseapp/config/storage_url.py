"""``STORAGE_URL``: where the autograder's files live, as one variable.

Unset, they are on this machine's disk under ``MEDIA_ROOT/blobs`` (a first run starts nothing).
``s3://BUCKET[/PREFIX]?endpoint_url=...&region_name=...&addressing_style=path`` puts them in an
S3-compatible bucket, which web and workers on different machines share. Credentials are never in
the URL: boto3 takes them from ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` or its usual chain
(a profile, an instance role).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NoReturn
from urllib.parse import parse_qs, urlsplit

from courseapp.config.env import ConfigError

EXAMPLE = (
    "s3://BUCKET[/PREFIX]?endpoint_url=http://HOST:9000&region_name=REGION&addressing_style=path"
)
QUERY_OPTIONS = ("endpoint_url", "region_name", "addressing_style")
ADDRESSING_STYLES = ("path", "virtual", "auto")
# S3's rule for bucket names (the strictest of the compatible servers).
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# A downloaded file larger than this is spooled to a temporary file, not held in memory.
SPOOL_BYTES = 8 * 1024 * 1024
# A bucket that does not answer is told within about a second (a student's upload then gets a
# clear "try again", not a page that hangs while botocore retries five times with backoff); a
# slow answer may still take its time.
CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = 60
ATTEMPTS = 2


def blob_storage(url: str, *, media_root: Path) -> dict:
    """The ``settings.STORAGES["blobs"]`` entry for ``url`` (empty: the local directory)."""
    if not url:
        return {
            "BACKEND": "autograder.blob_storages.LocalBlobStorage",
            # Instructors' sources among them: their owner and group only, never other uids (the
            # sandbox's fallback runs students' code as one), whatever FILE_UPLOAD_PERMISSIONS says.
            "OPTIONS": {
                "location": str(media_root / "blobs"),
                "file_permissions_mode": 0o640,
                "directory_permissions_mode": 0o750,
            },
        }
    return {"BACKEND": "autograder.blob_storages.BucketStorage", "OPTIONS": bucket_options(url)}


def bucket_options(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme != "s3":
        _refuse(url, f"the scheme is {parts.scheme or 'missing'!r}, not 's3'")
    if "@" in parts.netloc:
        _refuse(
            url,
            "it holds credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead",
            shown="s3://***@" + parts.netloc.rpartition("@")[2],
        )
    bucket = parts.netloc
    if not BUCKET_NAME.fullmatch(bucket):
        _refuse(url, f"{bucket!r} is not a bucket name (3-63 of a-z, 0-9, '.', '-')")
    prefix = parts.path.strip("/")
    options = {
        "bucket_name": bucket,
        "location": f"{prefix}/blobs" if prefix else "blobs",
        # Downloads go through our views, which check access: no signed or public URLs, no ACLs.
        "querystring_auth": False,
        "default_acl": None,
        # A name is a content address: ``blobs.put`` checks that it exists before writing, and a
        # name is never renamed to make room (the same name always holds the same bytes).
        "file_overwrite": True,
        "max_memory_size": SPOOL_BYTES,
    }
    options.update(_query_options(url, parts.query))
    # Given a client_config, django-storages no longer applies addressing_style itself.
    options["client_config"] = _client_config(options.get("addressing_style"))
    return options


def _client_config(addressing_style: str | None):
    from botocore.config import Config  # only when a bucket is named: botocore is slow to import

    return Config(
        s3={"addressing_style": addressing_style} if addressing_style else None,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": ATTEMPTS, "mode": "standard"},
    )


def _query_options(url: str, query: str) -> dict:
    try:
        found = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        _refuse(url, f"its query {query!r} is not name=value pairs joined by '&'")
    unknown = sorted(set(found) - set(QUERY_OPTIONS))
    if unknown:
        _refuse(url, f"it has unknown options {unknown}; known: {', '.join(QUERY_OPTIONS)}")
    repeated = sorted(name for name, values in found.items() if len(values) > 1)
    if repeated:
        _refuse(url, f"it gives {repeated} more than once")
    options = {name: values[0] for name, values in found.items()}
    endpoint = options.get("endpoint_url")
    if endpoint is not None:
        address = urlsplit(endpoint)
        if address.scheme not in ("http", "https") or not address.hostname:
            _refuse(url, f"endpoint_url={endpoint!r} is not an http:// or https:// address")
    style = options.get("addressing_style")
    if style is not None and style not in ADDRESSING_STYLES:
        _refuse(url, f"addressing_style={style!r} is not one of {', '.join(ADDRESSING_STYLES)}")
    if options.get("region_name") == "":
        _refuse(url, "region_name is empty")
    return options


def _refuse(url: str, why: str, *, shown: str | None = None) -> NoReturn:
    raise ConfigError(f"STORAGE_URL={shown or url} cannot be used: {why}. Use {EXAMPLE}.")
