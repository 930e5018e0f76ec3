"""A real S3-protocol server for the tests, and buckets in it.

``TEST_S3_ENDPOINT`` names one when set (CI's, which ``.ci/run`` starts); otherwise moto's
standalone server is started here, as a process of its own on a free 127.0.0.1 port, and stopped
at the end of the session. Either way the tests speak HTTP to it through boto3, as production
speaks to AWS S3, MinIO or Garage. Credentials are the usual AWS variables when set, else a pair
that moto accepts.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import boto3
from django.conf import settings

from courseapp.config import storage_url

REGION = "us-east-1"
START_DEADLINE = 60.0  # seconds; a loaded 2-core machine imports moto slowly


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str

    @cached_property
    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )

    def new_bucket(self) -> str:
        name = f"pmldl-test-{uuid.uuid4().hex[:16]}"
        self.client.create_bucket(Bucket=name)
        return name


@dataclass(frozen=True)
class Bucket:
    """A prefix of its own in a test bucket: what ``STORAGE_URL`` names, and a look inside."""

    server: S3Server
    name: str
    prefix: str

    @property
    def url(self) -> str:
        query = f"endpoint_url={self.server.endpoint}&region_name={REGION}&addressing_style=path"
        return f"s3://{self.name}/{self.prefix}?{query}"

    @property
    def env(self) -> dict[str, str]:
        """The variables a process (a worker, ``manage.py``) needs to use this bucket."""
        return {
            "STORAGE_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.server.access_key,
            "AWS_SECRET_ACCESS_KEY": self.server.secret_key,
        }

    def storages_entry(self) -> dict:
        """``settings.STORAGES["blobs"]`` for this process, as ``STORAGE_URL`` would make it."""
        entry = storage_url.blob_storage(self.url, media_root=Path(settings.MEDIA_ROOT))
        server = self.server
        entry["OPTIONS"].update(access_key=server.access_key, secret_key=server.secret_key)
        return entry

    @property
    def root(self) -> str:
        """Where ``autograder.blobs`` keeps its files in the bucket."""
        return f"{self.prefix}/blobs/"

    def blob_keys(self) -> list[str]:
        """Every object under the blobs' root, named as ``autograder.blobs.key_for`` names it."""
        pages = self.server.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=self.root
        )
        keys = (item["Key"] for page in pages for item in page.get("Contents", []))
        return sorted(key.removeprefix(self.root) for key in keys)

    def read_blob(self, key: str) -> bytes:
        return self.server.client.get_object(Bucket=self.name, Key=self.root + key)["Body"].read()

    def write_blob(self, key: str, data: bytes) -> None:
        self.server.client.put_object(Bucket=self.name, Key=self.root + key, Body=data)


@contextlib.contextmanager
def serving() -> Iterator[S3Server]:
    """The S3 server this session uses: ``TEST_S3_ENDPOINT``'s, or a moto server started here."""
    access_key = os.environ.get("AWS_ACCESS_KEY_ID") or "testing"
    secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY") or "testing"
    endpoint = os.environ.get("TEST_S3_ENDPOINT")
    if endpoint:
        yield S3Server(endpoint.rstrip("/"), access_key, secret_key)
        return
    with _moto_server() as endpoint:
        yield S3Server(endpoint, access_key, secret_key)


@contextlib.contextmanager
def _moto_server() -> Iterator[str]:
    with tempfile.TemporaryFile() as log:
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            endpoint = f"http://127.0.0.1:{port}"
            _wait_until_answering(endpoint, server, log)
            yield endpoint
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_answering(endpoint: str, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"moto's S3 server exited with {server.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(f"{endpoint}/", timeout=5):
                pass
        except urllib.error.HTTPError:
            return  # it answered HTTP: it is up
        except OSError:
            time.sleep(0.2)
            continue
        return
    raise RuntimeError(f"moto's S3 server did not answer on {endpoint} in {START_DEADLINE:.0f} s")
