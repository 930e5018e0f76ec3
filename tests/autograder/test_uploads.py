"""Uploads are unpacked and checked before anything is stored: zips, names, sizes. No database."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from django.core.exceptions import ValidationError

from autograder.uploads import MAX_FILES, safe_name, unpack

KB = 1024


def make_zip(entries: dict[str, bytes], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def test_plain_files_pass_through():
    assert unpack({"relu.py": b"x = 1\n"}, max_bytes=KB) == {"relu.py": b"x = 1\n"}


def test_a_zip_is_replaced_by_its_files_and_its_one_folder_dropped():
    data = make_zip({"hw/relu.py": b"a", "hw/model.py": b"b", "__MACOSX/hw/._relu.py": b"junk"})

    assert unpack({"hw.zip": data}, max_bytes=100 * KB) == {"relu.py": b"a", "model.py": b"b"}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"../escape.py": b"x"}, "points outside the folder"),
        ({"/etc/cron.d/x": b"x"}, "points outside the folder"),
        ({"a/../../x.py": b"x"}, "points outside the folder"),
        ({"C:\\x.py": b"x"}, "points outside the folder"),
        ({"a/x.py": b"x", "b/y.py": b"y"}, "in a subfolder"),
        ({"x.py": b"x", "sub/y.py": b"y"}, "in a subfolder"),
        ({".bashrc": b"x"}, "not a plain file name"),
        ({}, "is empty"),
    ],
)
def test_zip_paths_that_leave_the_folder_are_refused(entries, message):
    with pytest.raises(ValidationError, match=message):
        unpack({"hw.zip": make_zip(entries)}, max_bytes=100 * KB)


def test_a_link_in_a_zip_is_refused():
    with pytest.raises(ValidationError, match="is a link"):
        unpack({"hw.zip": make_zip({"x.py": b"x"}, link="passwd")}, max_bytes=100 * KB)


def test_a_zip_bomb_is_refused_without_being_unpacked():
    bomb = make_zip({"zeros.py": b"\0" * (50 * 2**20)})  # 50 MB of zeros, about 50 KB zipped
    assert len(bomb) < 100 * KB

    with pytest.raises(ValidationError, match="unpacks to more than"):
        unpack({"bomb.zip": bomb}, max_bytes=5 * 2**20)
    with pytest.raises(ValidationError, match="zip bomb"):
        unpack({"bomb.zip": bomb}, max_bytes=100 * 2**20)


def test_a_zip_that_lies_about_its_sizes_is_stopped_at_the_limit():
    honest = make_zip({"x.py": b"a" * 4000})
    # Rewrite the declared size (central directory and local header) to 10 bytes.
    lying = bytearray(honest)
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = lying.find(signature)
        lying[at + offset : at + offset + 4] = (10).to_bytes(4, "little")

    with pytest.raises(ValidationError):
        unpack({"x.zip": bytes(lying)}, max_bytes=1000)


def test_too_many_files_or_too_many_bytes_are_refused():
    many = make_zip({f"f{i}.py": b"x" for i in range(MAX_FILES + 1)})
    with pytest.raises(ValidationError, match=f"More than {MAX_FILES} files"):
        unpack({"many.zip": many}, max_bytes=100 * KB)
    with pytest.raises(ValidationError, match="larger than 1 KB"):
        unpack({"big.py": b"x" * (KB + 1)}, max_bytes=KB)
    with pytest.raises(ValidationError, match="together"):
        unpack({"a.py": b"x" * 600, "b.py": b"x" * 600}, max_bytes=KB)


def test_damaged_or_duplicate_content_is_refused():
    with pytest.raises(ValidationError, match="not a readable zip"):
        unpack({"x.zip": b"PK\x03\x04 this is not a zip"}, max_bytes=KB)
    with pytest.raises(ValidationError, match="uploaded twice"):
        unpack({"x.py": b"1", "x.zip": make_zip({"x.py": b"2"})}, max_bytes=KB)


@pytest.mark.parametrize("name", ["../x.py", "a/x.py", "", ".", "..", ".hidden", "x\ny.py"])
def test_names_must_be_plain(name):
    with pytest.raises(ValidationError):
        safe_name(name)
