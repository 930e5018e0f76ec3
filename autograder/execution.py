"""Running a submission in the sandbox, and reading back what it produced as data only."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from autograder import notebooks
from autograder.sandbox import Limits, SandboxResult, run_sandboxed

RUNNER = Path(__file__).with_name("nbrunner.py")
PYRUNNER = Path(__file__).with_name("pyrunner.py")
PROBES = Path(__file__).with_name("probes.py")
GUARD = Path(__file__).with_name("guard.py")  # the checks' guard, sealed first (probes' sibling)
MAX_COLLECTED_BYTES = 64 * 2**20
# Names the runners use in the scratch directory; an assignment's own files may not take them.
RESERVED_NAMES = frozenset(
    {"nbrunner.py", "submission.ipynb", "executed.ipynb", "pyrunner.py", "pyrunner-spec.json",
     "status.json", "probes.py", "guard.py"}
)  # fmt: skip
MAX_STATUS_BYTES = 64 * 1024
# One thread each for the math libraries: the sandbox caps processes and threads count as such.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Execution:
    executed: NotebookNode | None  # None when the run produced no readable, authentic notebook
    status: dict  # what nbrunner reported: state, errors, timeouts, last_executed
    sandbox: SandboxResult
    tampered: bool = False  # the files changed after nbrunner signed them
    files: dict[str, bytes] = field(default_factory=dict)  # collected outputs of checks

    @property
    def unreached(self) -> set[int]:
        """Cells after the one where the kernel died or the run was stopped."""
        if self.executed is None:
            return set()
        if self.status.get("state") == "finished" and self.sandbox.stopped_because == "exited":
            return set()
        last = self.status.get("last_executed")
        start = 0 if last is None else last + 1
        return set(range(start, len(self.executed.cells)))


def _small_file(path: Path, limit: int) -> bytes | None:
    if not path.is_file() or path.is_symlink() or path.stat().st_size > limit:
        return None
    return path.read_bytes()


def _signed_status(
    work: Path, key: bytes, *, covered: bytes = b"", limit: int = MAX_STATUS_BYTES
) -> tuple[dict | None, bool]:
    """(status, tampered): ``status.json``'s status if the runner's HMAC over ``covered`` and the
    status checks out; (None, False) when there is none, (None, True) when it fails the check."""
    status_file = _small_file(work / "status.json", limit)
    if status_file is None:
        return None, False
    try:
        signed = json.loads(status_file)
        status = signed["status"]
        status_bytes = json.dumps(status, sort_keys=True).encode("utf-8")
        expected = hmac.new(key, covered + b"\0" + status_bytes, hashlib.sha256).hexdigest()
        authentic = hmac.compare_digest(expected, str(signed["mac"]))
    except (ValueError, KeyError, TypeError):
        return None, True
    if not authentic or not isinstance(status, dict):
        return None, True
    return status, False


def _verified(work: Path, key: bytes) -> tuple[bytes | None, dict, bool]:
    """The executed notebook and status, if nbrunner's HMAC over them checks out."""
    notebook_bytes = _small_file(work / "executed.ipynb", notebooks.MAX_NOTEBOOK_BYTES)
    if notebook_bytes is None:
        return None, {}, False
    status, tampered = _signed_status(work, key, covered=notebook_bytes)
    if status is None:
        return None, {}, tampered
    return notebook_bytes, status, False


def run_notebook(
    notebook: NotebookNode,
    *,
    data_files: dict[str, bytes],
    limits: Limits,
    cell_timeout: int,
    collect: list[str] = (),
    replaced: dict[Path, bytes] | None = None,
) -> Execution:
    """Execute ``notebook`` with its data files in a fresh scratch directory in the sandbox;
    ``collect``: files the run writes (reference checks' outputs) to read back; ``replaced``:
    files of the system the run sees with this content instead (``run_sandboxed``)."""
    files = {**data_files, "submission.ipynb": notebooks.dumps(notebook)}
    argv = ["nbrunner.py", "submission.ipynb", "executed.ipynb", "status.json",
            str(cell_timeout), str(limits.output_bytes)]  # fmt: skip
    with _scratch(files, RUNNER) as work:
        result, key = _run(work, argv, limits, replaced)
        notebook_bytes, status, tampered = _verified(work, key)
        collected = _collect(work, collect)
    executed = None
    if notebook_bytes is not None:
        try:
            executed = notebooks.read(notebook_bytes, name="the executed notebook")
        except notebooks.NotebookError:
            tampered = True
    return Execution(executed, status, result, tampered, collected)


@contextlib.contextmanager
def _scratch(files: dict[str, bytes], runner: Path):
    """A fresh scratch directory holding ``files``, the runner and the probes, removed after."""
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch:
        work = Path(scratch) / "work"
        work.mkdir()
        for name, content in files.items():
            (work / name).write_bytes(content)
        for program in (runner, PROBES, GUARD):
            shutil.copyfile(program, work / program.name)
        yield work


def _run(
    work: Path, argv: list[str], limits: Limits, replaced: dict[Path, bytes] | None = None
) -> tuple[SandboxResult, bytes]:
    """Run the runner ``argv`` with this interpreter in the sandbox; the one-time key it signs
    its results with goes in on standard input. ``replaced`` files are written beside ``work``
    (outside what the run sees) and shown at their paths in their place."""
    key = secrets.token_hex(32).encode()
    shown = {}
    for number, (path, content) in enumerate((replaced or {}).items()):
        source = work.parent / f"replaced-{number}"
        source.write_bytes(content)
        source.chmod(0o644)
        shown[path] = source
    result = run_sandboxed(
        [sys.executable, *argv], workdir=work, limits=limits, env=THREAD_ENV,
        stdin=key + b"\n", replaced_files=shown,
    )  # fmt: skip
    return result, key


def _collect(work: Path, names) -> dict[str, bytes]:
    collected = {}
    for name in names:
        data = _small_file(work / name, MAX_COLLECTED_BYTES)
        if data is not None:
            collected[name] = data
    return collected


@dataclass(frozen=True)
class TestRun:
    """What pyrunner reported for a Python-file assignment."""

    status: dict | None  # state, tests [{status, output}]; None: no authentic report
    sandbox: SandboxResult
    tampered: bool = False
    files: dict[str, bytes] = field(default_factory=dict)  # what was asked for and is there


def run_python_tests(
    files: dict[str, bytes], runner_spec: dict, *, limits: Limits, collect: list[str] = (),
    replaced: dict[Path, bytes] | None = None,
) -> TestRun:  # fmt: skip
    """Run the harness's tests (``harness.HarnessSpec.runner_spec``) on ``files`` (the student's,
    the harness and the data) in a fresh scratch directory in the sandbox; ``collect``: files
    the run writes (the checks' outputs) to read back as bytes, each at most 64 MB."""
    files = {**files, "pyrunner-spec.json": json.dumps(runner_spec).encode()}
    with _scratch(files, PYRUNNER) as work:
        argv = ["pyrunner.py", "pyrunner-spec.json", "status.json"]
        result, key = _run(work, argv, limits, replaced)
        limit = MAX_STATUS_BYTES + 2 * limits.output_bytes
        status, tampered = _signed_status(work, key, limit=limit)
        collected = _collect(work, collect)
    return TestRun(status, result, tampered, collected)
