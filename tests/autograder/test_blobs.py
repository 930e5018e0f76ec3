"""Files are stored by content, once, and never rewritten: the same on this machine's disk and
in an S3 bucket (a real S3-protocol server, ``tests/s3.py``), through Django's storage API."""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from autograder import blobs
from autograder.blob_storages import LocalBlobStorage
from autograder.failures import FileMissing, InfrastructureFault, worker_resources
from courseapp.config import storage_url


class Disk:
    """The local directory, looked at as ``tests.s3.Bucket`` looks at a bucket."""

    def __init__(self, root: Path):
        self.root = root

    def blob_keys(self) -> list[str]:
        found = (p for p in self.root.rglob("*") if p.is_file())
        return sorted(p.relative_to(self.root).as_posix() for p in found)

    def read_blob(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def write_blob(self, key: str, data: bytes) -> None:
        (self.root / key).write_bytes(data)


@pytest.fixture(params=["disk", "bucket"])
def store(request, settings, tmp_path):
    if request.param == "bucket":
        return request.getfixturevalue("blobs_in_bucket")
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": storage_url.blob_storage("", media_root=tmp_path),
    }
    return Disk(tmp_path / "blobs")


def unique_bytes() -> bytes:
    return f"a file of its own: {uuid.uuid4().hex}\n".encode()


def test_it_gives_back_the_bytes_it_stored_under_their_sha256(store):
    data = unique_bytes()

    digest = blobs.put(data)

    assert digest == hashlib.sha256(data).hexdigest()
    assert blobs.get(digest) == data
    with blobs.open(digest) as handle:
        assert handle.read() == data
    assert store.blob_keys() == [f"{digest[:2]}/{digest}"]


def test_it_stores_the_same_bytes_once(store):
    data = unique_bytes()

    first, second = blobs.put(data), blobs.put(data)

    assert first == second
    assert store.blob_keys() == [blobs.key_for(first)]


def test_it_never_rewrites_a_stored_file(store):
    data = unique_bytes()
    key = blobs.key_for(blobs.put(data))
    store.write_blob(key, b"changed behind its back")

    blobs.put(data)

    assert store.read_blob(key) == b"changed behind its back"


def test_a_missing_file_is_a_clear_error_that_grading_retries(store):
    digest = hashlib.sha256(unique_bytes()).hexdigest()

    with pytest.raises(blobs.BlobMissing, match=digest):
        blobs.get(digest)
    with pytest.raises(blobs.BlobMissing, match=digest):
        blobs.open(digest)
    # In the worker, a missing file is an infrastructure fault (retried, never a score).
    with pytest.raises(FileMissing), worker_resources():
        blobs.get(digest)


def test_a_name_that_is_not_a_sha256_is_refused(store):
    with pytest.raises(ValueError, match="not a sha256"):
        blobs.get("../../etc/passwd")


def test_on_disk_a_half_written_file_never_appears_under_its_name(tmp_path):
    storage = LocalBlobStorage(location=tmp_path)

    class BrokenUpload(ContentFile):
        def chunks(self, chunk_size=None):
            yield b"the first half"
            raise OSError("the disk went away")

    with pytest.raises(OSError, match="went away"):
        storage.save("ab/abcdef", BrokenUpload(b"unused"))

    assert not (tmp_path / "ab" / "abcdef").exists()
    assert list((tmp_path / "ab").iterdir()) == []  # nor a temporary file left behind


def test_a_bucket_that_does_not_answer_is_an_infrastructure_fault(settings, s3_bucket):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    entry = s3_bucket.storages_entry()
    entry["OPTIONS"]["endpoint_url"] = f"http://127.0.0.1:{closed}"
    settings.STORAGES = {**settings.STORAGES, "blobs": entry}

    with pytest.raises(InfrastructureFault, match="could not be reached"):
        blobs.put(unique_bytes())


def test_a_machine_without_credentials_for_the_bucket_is_told_which_variables_to_set(
    settings, s3_bucket, monkeypatch, tmp_path
):
    for variable in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": storage_url.blob_storage(s3_bucket.url, media_root=tmp_path),
    }

    with pytest.raises(
        InfrastructureFault, match="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    ):
        blobs.put(unique_bytes())


def test_a_forked_process_reads_the_bucket_on_connections_of_its_own(blobs_in_bucket):
    """Celery's prefork pool and the fork server fork processes that inherit the storage: an
    inherited HTTP connection read by two processes would mix their replies."""
    data = unique_bytes()
    digest = blobs.put(data)
    inherited = blobs.storage().connection
    reader, writer = os.pipe()

    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running pytest's teardown
        try:
            fresh = blobs.storage().connection is not inherited
            os.write(writer, b"ok" if fresh and blobs.get(digest) == data else b"shared")
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as answer:
        said = answer.read()
    os.waitpid(pid, 0)

    assert said == b"ok"
    assert blobs.storage().connection is inherited  # the parent keeps its own
