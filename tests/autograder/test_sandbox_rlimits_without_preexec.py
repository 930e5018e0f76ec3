"""The sandbox's rlimits are set by ``prlimit`` in front of the command, not by a ``preexec_fn``
(which makes CPython fork() the whole worker instead of vfork()); every limit still holds, at
both isolation levels, and a host without prlimit still gets them."""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

import pytest

from autograder.sandbox import Limits, limits, run_sandboxed, supervisor

MiB = 2**20
ODD = Limits(
    cpu_seconds=7,
    memory_bytes=1000 * MiB,
    processes=33,
    open_files=99,
    file_size_bytes=5 * MiB,
)
# /proc/self/limits line → the resource it shows
SHOWN = {
    "Max cpu time": resource.RLIMIT_CPU,
    "Max address space": resource.RLIMIT_AS,
    "Max processes": resource.RLIMIT_NPROC,
    "Max open files": resource.RLIMIT_NOFILE,
    "Max file size": resource.RLIMIT_FSIZE,
    "Max core file size": resource.RLIMIT_CORE,
}


@pytest.fixture(params=["auto", "rlimits"])
def level(request, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_SANDBOX", request.param)
    return request.param


@pytest.fixture
def popen_calls(monkeypatch):
    calls = []
    real = subprocess.Popen

    def recording(argv, **kwargs):
        if "/proc/self/limits" in argv:  # the run's, not bubblewrap's probe or torch's measure
            calls.append((list(argv), kwargs))
        return real(argv, **kwargs)

    monkeypatch.setattr(supervisor.subprocess, "Popen", recording)
    return calls


def limits_seen(workdir: Path) -> dict[int, tuple[int, int]]:
    result = run_sandboxed(["cat", "/proc/self/limits"], workdir=workdir, limits=ODD)
    assert result.ok, result.stderr
    seen = {}
    for line in result.stdout.splitlines():
        for label, res in SHOWN.items():
            if line.startswith(label):
                soft, hard = line[len(label) :].split()[:2]
                seen[res] = (int(soft), int(hard))
    return seen


def expected() -> dict[int, tuple[int, int]]:
    loaded = supervisor.torch_address_space()
    return {res: (soft, hard) for res, soft, hard in limits.rlimits_for(ODD, loaded)}


def test_the_program_gets_every_limit(level, tmp_path, popen_calls):
    assert limits_seen(tmp_path) == expected()

    [(argv, kwargs)] = popen_calls
    assert argv[0] == limits.PRLIMIT and kwargs["preexec_fn"] is None  # so CPython may vfork


def test_without_prlimit_the_limits_are_set_before_exec(level, tmp_path, popen_calls, monkeypatch):
    monkeypatch.setattr(limits, "PRLIMIT", "/nonexistent/prlimit")

    assert limits_seen(tmp_path) == expected()

    [(argv, kwargs)] = popen_calls
    assert argv[0] != "/nonexistent/prlimit" and kwargs["preexec_fn"] is not None


def test_the_command_sets_each_limit_once():
    command = limits.rlimit_command(ODD, 123)
    options = [arg.split("=")[0] for arg in command[1:-1]]

    assert command[0] == limits.PRLIMIT and command[-1] == "--"
    assert sorted(options) == sorted(limits.PRLIMIT_OPTIONS.values())
    assert "--core=0:0" in command and f"--as={1000 * MiB + 123}:{1000 * MiB + 123}" in command
