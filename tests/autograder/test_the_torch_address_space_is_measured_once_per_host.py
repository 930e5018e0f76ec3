"""What importing torch maps is measured once per host and kept, not once per worker process
(a child that imports torch: seconds, which each new worker paid inside its first grading)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.sandbox import host, host_cache

REPO = Path(__file__).resolve().parents[2]
MEASURED = 700 * 2**20


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(host_cache.CACHE_DIR_ENV, str(folder))
    host.torch_address_space.cache_clear()
    yield folder
    host.torch_address_space.cache_clear()


@pytest.fixture
def children(monkeypatch):
    """The measuring children started: each answers ``MEASURED``."""
    started = []

    def fake_run(argv, **kwargs):
        started.append(argv)
        return subprocess.CompletedProcess(argv, 0, stdout=f"{MEASURED}\n", stderr="")

    monkeypatch.setattr(host.subprocess, "run", fake_run)
    return started


def no_child(*args, **kwargs):
    raise AssertionError("torch was measured again")


def a_new_process():
    host.torch_address_space.cache_clear()


def kept_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("torch-address-space-*.json"))


def test_it_measures_once_and_keeps_it(cache, children):
    assert host.torch_address_space() == MEASURED
    assert len(children) == 1 and len(kept_files(cache)) == 1
    assert os.stat(cache).st_mode & 0o777 == 0o700


def test_a_second_process_reads_what_the_first_kept(cache, children):
    host.torch_address_space()  # the first process measures
    code = (
        "import subprocess\n"
        "def no_child(*a, **k): raise AssertionError('torch was measured again')\n"
        "subprocess.run = no_child\n"
        "from autograder.sandbox import host\n"
        "print(host.torch_address_space())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    second = subprocess.check_output([sys.executable, "-c", code], env=env, text=True)

    assert int(second) == MEASURED


def test_a_changed_installation_is_measured_again(cache, children, monkeypatch):
    host.torch_address_space()
    key = host._torch_install_key()
    monkeypatch.setattr(host, "_torch_install_key", lambda: {**key, "torch": "9.9.9+cu999"})
    a_new_process()

    assert host.torch_address_space() == MEASURED
    assert len(children) == 2 and len(kept_files(cache)) == 2


@pytest.mark.parametrize("content", [b"", b"{not json", b'"a string"', b"[1, 2]"])
def test_a_corrupt_file_is_measured_again(cache, children, content):
    host.torch_address_space()
    [kept] = kept_files(cache)
    kept.write_bytes(content)
    a_new_process()

    assert host.torch_address_space() == MEASURED
    assert len(children) == 2
    assert json.loads(kept.read_text())["value"] == MEASURED  # and kept again, whole


@pytest.mark.parametrize("value", [-1, 0, True, "700", 2**50, None])
def test_a_value_that_is_no_measurement_is_measured_again(cache, children, value):
    host.torch_address_space()
    [kept] = kept_files(cache)
    kept.write_text(json.dumps({"key": host._torch_install_key(), "value": value}))
    a_new_process()

    assert host.torch_address_space() == MEASURED
    assert len(children) == 2


def test_a_file_for_another_key_is_not_believed(cache, children):
    host.torch_address_space()
    [kept] = kept_files(cache)
    foreign = {**host._torch_install_key(), "host": "elsewhere"}
    kept.write_text(json.dumps({"key": foreign, "value": 1}))
    a_new_process()

    assert host.torch_address_space() == MEASURED
    assert len(children) == 2


def test_a_file_others_could_write_is_not_believed(cache, children):
    host.torch_address_space()
    [kept] = kept_files(cache)
    kept.chmod(0o666)
    a_new_process()

    assert host.torch_address_space() == MEASURED
    assert len(children) == 2


def test_a_folder_others_could_write_is_not_used(tmp_path, children, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv(host_cache.CACHE_DIR_ENV, str(shared))
    a_new_process()

    assert host.torch_address_space() == MEASURED
    a_new_process()
    assert host.torch_address_space() == MEASURED
    assert len(children) == 2 and kept_files(shared) == []


def test_without_torch_nothing_is_measured(cache, monkeypatch):
    monkeypatch.setattr(host.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(host.subprocess, "run", no_child)

    assert host.torch_address_space() == 0


def test_a_failed_measurement_is_not_kept(cache, monkeypatch):
    def fails(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, stdout="", stderr="ImportError")

    monkeypatch.setattr(host.subprocess, "run", fails)

    assert host.torch_address_space() == 0
    assert kept_files(cache) == []


def test_the_folder_defaults_to_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.delenv(host_cache.CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    assert host_cache.cache_dir() == tmp_path / "xdg" / "autograder"
