"""``STORAGE_URL`` says where the autograder's files live: unset, under ``MEDIA_ROOT/blobs`` on
this machine; ``s3://BUCKET[/PREFIX]?...``, in an S3-compatible bucket. A URL that cannot work
stops the site at start with a message naming the variable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from courseapp.config.env import ConfigError
from courseapp.config.storage_url import blob_storage
from tests.courseapp.test_settings_from_environment import ROOT, clean_env, manage

PRINT_BLOBS = """
import django, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.settings")
django.setup()
from django.conf import settings
from autograder import blobs
config = blobs.storage().client_config if hasattr(blobs.storage(), "client_config") else None
print(json.dumps({"entry": settings.STORAGES["blobs"], "class": type(blobs.storage()).__name__,
                  "media": str(settings.MEDIA_ROOT), "client": config and {
                      "connect_timeout": config.connect_timeout, "retries": config.retries,
                      "s3": config.s3}}, default=repr))
"""


def blobs_settings_in(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PRINT_BLOBS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_unset_the_files_are_under_media_root(tmp_path):
    found = blobs_settings_in(clean_env(VAR_DIR=str(tmp_path)))

    assert found["class"] == "LocalBlobStorage"
    assert found["entry"]["OPTIONS"]["location"] == str(Path(found["media"]) / "blobs")


def test_an_s3_url_names_the_bucket_its_prefix_and_the_server(tmp_path):
    url = "s3://grading-files/course-2026?endpoint_url=http://10.0.0.5:9000&region_name=eu-1&addressing_style=path"

    found = blobs_settings_in(clean_env(VAR_DIR=str(tmp_path), STORAGE_URL=url))

    assert found["class"] == "BucketStorage"
    options = found["entry"]["OPTIONS"]
    assert options["bucket_name"] == "grading-files"
    assert options["location"] == "course-2026/blobs"
    assert options["endpoint_url"] == "http://10.0.0.5:9000"
    assert (options["region_name"], options["addressing_style"]) == ("eu-1", "path")
    # Downloads go through our views: no signed or public URLs, no ACLs.
    assert options["querystring_auth"] is False and options["default_acl"] is None
    # A bucket that does not answer is told at once (no five retries with backoff), and the
    # client that says so still addresses the bucket as the URL asked.
    assert found["client"] == {
        "connect_timeout": 1,
        "retries": {"max_attempts": 2, "mode": "standard"},
        "s3": {"addressing_style": "path"},
    }


def test_a_bucket_alone_is_enough():
    options = blob_storage("s3://grading-files", media_root=Path("/unused"))["OPTIONS"]

    assert (options["bucket_name"], options["location"]) == ("grading-files", "blobs")
    assert "endpoint_url" not in options  # AWS itself, as boto3 finds it


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://grading-files/x", "not 's3'"),
        ("grading-files", "missing"),
        ("s3://", "is not a bucket name"),
        ("s3://Grading_Files", "is not a bucket name"),
        ("s3://grading-files?endpoint=http://h:9000", "unknown options ['endpoint']"),
        ("s3://grading-files?endpoint_url=h:9000", "is not an http:// or https:// address"),
        ("s3://grading-files?addressing_style=sideways", "is not one of path, virtual, auto"),
        ("s3://grading-files?region_name=a&region_name=b", "more than once"),
        ("s3://grading-files?region_name=", "region_name is empty"),
    ],
)
def test_a_url_that_cannot_work_is_refused_with_what_to_write(url, why):
    with pytest.raises(ConfigError, match="STORAGE_URL") as refused:
        blob_storage(url, media_root=Path("/unused"))

    assert why in str(refused.value)
    assert "s3://BUCKET[/PREFIX]?endpoint_url=" in str(refused.value)


def test_credentials_are_never_taken_from_the_url_nor_shown():
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID") as refused:
        blob_storage("s3://KEY:hunter2@grading-files", media_root=Path("/unused"))

    assert "hunter2" not in str(refused.value)


def test_the_site_does_not_start_with_a_bad_url(tmp_path):
    done = manage(clean_env(VAR_DIR=str(tmp_path), STORAGE_URL="minio://files"), "check")

    assert done.returncode != 0
    assert "STORAGE_URL=minio://files cannot be used" in done.stderr
    assert "Traceback" not in done.stderr
