"""The two storage backends that hold ``autograder.blobs``: a local directory and an S3 bucket.

``settings.STORAGES["blobs"]`` names one of them (``courseapp.config.storage_url`` picks it from
``STORAGE_URL``). Both are Django storages, so ``blobs`` talks to either the same way; each adds
only what content addressing needs of it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading

from django.core.files.storage import FileSystemStorage
from storages.backends.s3 import S3Storage


class LocalBlobStorage(FileSystemStorage):
    """A directory where each file appears whole or not at all.

    Django's own ``FileSystemStorage`` writes into the final name, so a reader on another
    process (the worker grading a submission the web process is still writing) could read half a
    file. Here a file is written to a temporary name beside it and renamed into place, which is
    atomic on one filesystem. A name is a content address, so it is kept as given: the same name
    always means the same bytes (``blobs.put`` does not write a name that exists).

    Who may read: on one machine the web runs as its own user and owns ``MEDIA_ROOT``, a worker
    runs as root, and the sandbox's rlimits fallback runs students' code as other uids on this
    filesystem. So a folder or file made here belongs to the owner of the folder it is made in
    (when root makes it), with the modes ``storage_url`` gives (no access for others): the web
    reads and adds to what the worker stored, students' code reads none of it.
    """

    def get_available_name(self, name, max_length=None):
        return name

    def _save(self, name, content):
        target = self.path(name)
        folder = os.path.dirname(target)
        self._make_folders(folder)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-")
        try:
            self._take_owner_of(temporary, folder)
            with os.fdopen(fd, "wb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk)
                # On the disk before the name: a crash must not leave the name on a short file
                # (``blobs.put`` never writes a name again; ``blobs.get`` would refuse it).
                handle.flush()
                os.fsync(handle.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(temporary, self.file_permissions_mode)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return name

    def _make_folders(self, folder: str) -> None:
        missing = []
        while not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for path in reversed(missing):
            with contextlib.suppress(FileExistsError):  # another process made it meanwhile
                os.mkdir(path)
                if self.directory_permissions_mode is not None:
                    os.chmod(path, self.directory_permissions_mode)
                self._take_owner_of(path, os.path.dirname(path))

    @staticmethod
    def _take_owner_of(path: str, folder: str) -> None:
        if os.geteuid() == 0:
            owner = os.stat(folder)
            os.chown(path, owner.st_uid, owner.st_gid)


class BucketStorage(S3Storage):
    """An S3-compatible bucket (AWS S3, MinIO, Ceph, Garage, moto) through django-storages.

    A PUT is atomic (an object is visible whole once its upload completes), so nothing is added
    for that. What is added: a connection is never shared across ``fork``. Celery's prefork pool
    and the autograder's fork server fork processes that may have inherited a storage instance;
    two processes reading one inherited HTTP connection would read each other's replies.
    """

    @property
    def connection(self):
        self._forget_connections_of_another_process()
        return super().connection

    @property
    def bucket(self):
        self._forget_connections_of_another_process()
        return super().bucket

    def _forget_connections_of_another_process(self) -> None:
        if getattr(self, "_connections_pid", None) != os.getpid():
            self._connections = threading.local()
            self._bucket = None
            self._connections_pid = os.getpid()
