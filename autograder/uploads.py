"""What a student uploaded, as plain file names and bytes: zips unpacked safely, names checked.

Nothing here trusts the upload: a zip's declared sizes, its paths, its entry types. A file name
that could leave the scratch directory, a link, an encrypted or oversized entry, too many files
or a zip bomb is a ``ValidationError`` that says what is wrong, and nothing is stored.
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError

ZIP_SUFFIX = ".zip"
MAX_FILES = 50
MAX_RATIO = 200  # a real source file compresses 3 to 10 times; a bomb by thousands
# Junk that archivers add, and that nobody means to hand in.
IGNORED_PARTS = {"__MACOSX", ".DS_Store", "__pycache__", ".ipynb_checkpoints"}


def safe_name(name: str) -> str:
    """A plain file name: no folders, no way out of the scratch directory, not hidden."""
    path = PurePosixPath(name.replace("\\", "/"))
    if len(path.parts) != 1 or path.name in ("", ".", "..") or path.name.startswith("."):
        raise ValidationError(f"{name!r} is not a plain file name.")
    if any(ord(ch) < 32 for ch in path.name) or len(path.name) > 200:
        raise ValidationError(f"{name!r} is not a plain file name.")
    return path.name


def read_uploaded(uploaded, *, max_bytes: int) -> dict[str, bytes]:
    """Django's uploaded files (from a form or the API) as name to bytes, each read to at most
    one byte past ``max_bytes`` so that ``unpack`` can say it is too large."""
    files: dict[str, bytes] = {}
    for upload in uploaded:
        name = upload.name or "upload"
        if name in files:
            raise ValidationError(f"{name} was uploaded twice.")
        files[name] = upload.read(max_bytes + 1)
    return files


def unpack(files: dict[str, bytes], *, max_bytes: int) -> dict[str, bytes]:
    """The uploaded files, with every ``.zip`` among them replaced by what it holds. ``max_bytes``
    caps each upload and everything unpacked, together."""
    unpacked: dict[str, bytes] = {}
    total = 0
    for raw_name, content in files.items():
        name = safe_name(raw_name)
        if len(content) > max_bytes:
            raise ValidationError(f"{name} is larger than {_size(max_bytes)}.")
        inner = (
            _unzip(name, content, max_bytes=max_bytes - total)
            if name.lower().endswith(ZIP_SUFFIX)
            else {name: content}
        )
        for inner_name, inner_content in inner.items():
            if inner_name in unpacked:
                raise ValidationError(f"{inner_name} was uploaded twice.")
            unpacked[inner_name] = inner_content
            total += len(inner_content)
    if total > max_bytes:
        raise ValidationError(f"The files come to more than {_size(max_bytes)} together.")
    if len(unpacked) > MAX_FILES:
        raise ValidationError(f"More than {MAX_FILES} files: hand in only what the task asks for.")
    return unpacked


def _unzip(name: str, data: bytes, *, max_bytes: int) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ValidationError(f"{name} is not a readable zip file ({exc}).") from exc
    if len(entries) > MAX_FILES * 4:
        raise ValidationError(f"{name} holds {len(entries)} entries; at most {MAX_FILES} files.")
    kept = [e for e in entries if not e.is_dir() and not _ignored(e.filename)]
    prefix = _common_folder([e.filename for e in kept])
    out: dict[str, bytes] = {}
    total = 0
    for entry in kept:
        inner = _entry_name(name, entry, prefix)
        if entry.flag_bits & 0x1:
            raise ValidationError(f"{name}: {inner} is encrypted.")
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise ValidationError(f"{name}: {inner} is a link; zip the file itself.")
        # Declared sizes can lie; they are only used to refuse early. The read below is capped.
        if entry.file_size > max_bytes - total:
            raise ValidationError(f"{name} unpacks to more than {_size(max_bytes)}.")
        if entry.compress_size and entry.file_size / entry.compress_size > MAX_RATIO:
            raise ValidationError(f"{name}: {inner} is compressed suspiciously well (a zip bomb?).")
        content = _read_capped(archive, entry, name, max_bytes - total)
        if inner in out:
            raise ValidationError(f"{name} holds {inner} twice.")
        out[inner] = content
        total += len(content)
    if not out:
        raise ValidationError(f"{name} is empty.")
    return out


def _read_capped(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str, cap: int) -> bytes:
    try:
        with archive.open(entry) as stream:
            content = stream.read(cap + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, EOFError) as exc:
        raise ValidationError(f"{name}: {entry.filename} cannot be read ({exc}).") from exc
    except OSError as exc:  # zlib errors of a damaged entry
        raise ValidationError(f"{name}: {entry.filename} is damaged.") from exc
    if len(content) > cap:
        raise ValidationError(f"{name} unpacks to more than it says (a zip bomb?).")
    return content


def _ignored(path: str) -> bool:
    return any(part in IGNORED_PARTS for part in PurePosixPath(path).parts)


def _common_folder(paths: list[str]) -> str:
    """The one folder everything is in (zipping a folder does that), to be dropped; else ""."""
    firsts = {PurePosixPath(p).parts[0] for p in paths if len(PurePosixPath(p).parts) > 1}
    if len(firsts) == 1 and all(len(PurePosixPath(p).parts) > 1 for p in paths):
        return firsts.pop() + "/"
    return ""


def _entry_name(name: str, entry: zipfile.ZipInfo, prefix: str) -> str:
    raw = entry.filename
    if raw.startswith("/") or "\\" in raw or ".." in PurePosixPath(raw).parts or ":" in raw:
        raise ValidationError(f"{name}: {raw!r} points outside the folder.")
    inner = raw[len(prefix) :] if prefix and raw.startswith(prefix) else raw
    if len(PurePosixPath(inner).parts) != 1:
        raise ValidationError(
            f"{name}: {raw!r} is in a subfolder; put the files at the top of the zip."
        )
    try:
        return safe_name(inner)
    except ValidationError as exc:
        raise ValidationError(f"{name}: {raw!r} is not a plain file name.") from exc


def _size(n: int) -> str:
    return f"{n // 1024} KB" if n < 2**20 else f"{n / 2**20:g} MB"
