"""Attacks on the autograder's file storage: ways a file could be lost, leaked or corrupted and
still be graded. Each test is one attack that once worked."""

from __future__ import annotations

import uuid

import pytest

from autograder import blobs
from autograder.failures import InfrastructureFault, worker_resources
from tests.autograder.test_blobs import store  # noqa: F401  (the disk and the bucket)


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 2], lambda data: b"", lambda data: data.upper()],
    ids=["cut in half", "empty", "changed"],
)
def test_it_never_grades_a_stored_file_that_is_not_what_was_stored(store, damage):  # noqa: F811
    """A file cut short by a crash (renamed into place before its data reached the disk), or
    changed in the bucket, is not what its sha256 says: reading it for grading is an
    infrastructure fault (retried, then failed for staff), never bytes the student is graded on."""
    data = f"def relu(x):\n    return max(0, x)  # {uuid.uuid4().hex}\n".encode()
    digest = blobs.put(data)
    store.write_blob(blobs.key_for(digest), damage(data))

    with pytest.raises(InfrastructureFault, match=digest), worker_resources():
        blobs.get(digest)
