"""Running a submission in the sandbox, and reading back what it produced as data only."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from autograder import notebooks
from autograder.failures import SandboxDidNotStart, StoppedBeforeStudentCode, WorkerExhausted
from autograder.sandbox import Limits, SandboxResult, host, run_sandboxed, warm

RUNNER = Path(__file__).with_name("nbrunner.py")
PYRUNNER = Path(__file__).with_name("pyrunner.py")
PROBES = Path(__file__).with_name("probes.py")
PYTESTER = Path(__file__).with_name("pytester.py")
KEYHOLDER = Path(__file__).with_name("keyholder.py")  # the runners' key and report channel
FORKSERVER = Path(__file__).with_name("forkserver.py")  # starts the runners' kernel and testers
NBKERNEL = Path(__file__).with_name("nbkernel.py")  # the notebook's kernel, forked
GUARD = Path(__file__).with_name("guard.py")  # the checks' guard, sealed first (probes' sibling)
MAX_COLLECTED_BYTES = 64 * 2**20
# Names the runners use in the scratch directory; an assignment's own files may not take them.
RESERVED_NAMES = frozenset(
    {
        "nbrunner.py",
        "submission.ipynb",
        "executed.ipynb",
        "pyrunner.py",
        "pyrunner-spec.json",
        "status.json",
        "probes.py",
        "guard.py",
        "pyrunner-hidden.json",
        "forkserver.py",
        "nbkernel.py",
        "keyholder.py",
    }
)
MAX_STATUS_BYTES = 64 * 1024
RUN_ENV = {
    # One thread each for the math libraries: the sandbox caps processes, and threads count.
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    # What nbgrader sets while it autogrades (its FAQ): notebooks test it to skip slow work or
    # to guard their tests, and must grade here as they do under nbgrader.
    "NBGRADER_EXECUTION": "autograde",
}


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
    student_cells: set[int] = frozenset(),
) -> Execution:
    """Execute ``notebook`` with its data files in a fresh scratch directory in the sandbox;
    ``collect``: files the run writes (reference checks' outputs) to read back; ``replaced``:
    files of the system the run sees with this content instead (``run_sandboxed``);
    ``student_cells``: the indexes of the cells that hold the student's code. Raises an
    ``InfrastructureFault`` when the run ended before any of them (``require_student_code``)."""
    # The kernel imports the checks' modules from its folder (before any student cell runs).
    files = {
        **data_files,
        "submission.ipynb": notebooks.dumps(notebook),
        PROBES.name: PROBES.read_bytes(),
        GUARD.name: GUARD.read_bytes(),
    }
    args = [
        "submission.ipynb",
        "executed.ipynb",
        "status.json",
        str(cell_timeout),
        str(limits.output_bytes),
        ",".join(str(i) for i in sorted(student_cells)),
    ]
    with _scratch(files, (RUNNER,)) as (work, programs):
        result, key = _run(work, programs / RUNNER.name, args, limits, replaced)
        notebook_bytes, status, tampered = _verified(work, key)
        collected = _collect(work, collect)
    if notebook_bytes is None:
        require_room(_scratch_folder(), limits)
    finished = status.get("state") == "finished"
    require_student_code(result, key, finished=finished, detail=str(status.get("message", "")))
    executed = None
    if notebook_bytes is not None:
        try:
            executed = notebooks.read(notebook_bytes, name="the executed notebook")
        except notebooks.NotebookError:
            tampered = True
    return Execution(executed, status, result, tampered, collected)


@contextlib.contextmanager
def _scratch(files: dict[str, bytes], runners: tuple[Path, ...]):
    """(work, programs): a fresh scratch directory holding ``files``, where the run works, and
    beside it a folder holding the runner and the probes, which the run sees read-only. The
    student's code may write anything in ``work``: a runner that ran a file from there again (a
    test process restarted after a crash) or imported a module from there before it has its key
    would run what the student's code wrote. Both removed after."""
    folder = _scratch_folder()
    with tempfile.TemporaryDirectory(prefix="grade-", dir=folder) as scratch:
        root = Path(scratch)
        work, programs = root / "work", root / "programs"
        try:
            work.mkdir()
            programs.mkdir()
            for name, content in files.items():
                (work / name).write_bytes(content)
            for program in (*runners, KEYHOLDER, FORKSERVER, NBKERNEL, PROBES, GUARD):
                shutil.copyfile(program, programs / program.name)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                require_room(folder, Limits(disk_bytes=MAX_COLLECTED_BYTES, disk_entries=1))
            raise
        yield work, programs


def _run(
    work: Path,
    runner: Path,
    args: list[str],
    limits: Limits,
    replaced: dict[Path, bytes] | None = None,
) -> tuple[SandboxResult, bytes]:
    """Run ``runner`` with ``args`` by this interpreter in the sandbox, isolated (``-I``: no
    module of the working folder, no ``PYTHON*`` variable and no user site can shadow what the
    runner imports before it has read its key); the one-time key it signs its results with goes
    in on standard input, and it reports how far it got on the sandbox's report channel.
    ``replaced`` files are written beside ``work`` (outside what the run sees) and shown at
    their paths in their place."""
    key = secrets.token_hex(32).encode()
    shown = {}
    for number, (path, content) in enumerate((replaced or {}).items()):
        source = work.parent / f"replaced-{number}"
        source.write_bytes(content)
        source.chmod(0o644)
        shown[path] = source
    result = run_sandboxed(
        [host.resolved_program(sys.executable), "-I", "-B", str(runner), *args],
        workdir=work,
        limits=limits,
        env=RUN_ENV,
        stdin=key + b"\n",
        replaced_files=shown,
        report=True,
        readonly_paths=[runner.parent],
        warm=(runner.stem, args),
    )
    return result, key


def _scratch_folder() -> Path:
    """Where the scratch directories are made (a warm sandbox's folder, on the same disk as the
    temporary folder unless it moved)."""
    return warm.scratch_parent() or Path(tempfile.gettempdir())


def require_room(folder: Path, limits: Limits) -> None:
    """Raise ``WorkerExhausted`` if the disk of ``folder`` (where scratch directories go) has less
    room than a run may use. Called when a run left no authentic result, once its scratch
    directory is gone: what the student's code wrote went with it, so a disk still short of room
    is the worker's doing (the runner could not write its results for that)."""
    try:
        usage = os.statvfs(folder)
    except OSError:
        return
    free, inodes = usage.f_bavail * usage.f_frsize, usage.f_favail
    if free < limits.disk_bytes or (usage.f_files and inodes < limits.disk_entries):
        raise WorkerExhausted(
            f"The worker's scratch disk ({folder}) has {free // 2**20} MB and {inodes} files "
            f"free; a run may use {limits.disk_bytes // 2**20} MB and {limits.disk_entries}."
        )


def signed_stages(report: str, key: bytes) -> list[str]:
    """The stages the runner signed on the report channel, in order; lines that do not check
    out are ignored."""
    stages = []
    for line in report.splitlines():
        stage, _, mac = line.partition(" ")
        expected = hmac.new(key, b"stage\0" + stage.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, mac) and stage not in stages:
            stages.append(stage)
    return stages


def require_student_code(
    result: SandboxResult, key: bytes, *, finished: bool, detail: str = ""
) -> None:
    """Raise an infrastructure fault unless the run got as far as the student's code (or
    finished without any): the evidence is the runner's signed stages, which the student's code
    can neither write nor take back (it starts only after them). ``detail``: what the runner
    said of its end, for staff."""
    stages = signed_stages(result.report, key)
    if "started" not in stages:
        raise SandboxDidNotStart(f"The sandbox did not start the runner: {_how(result)}")
    if "student" not in stages and not finished:
        said = f"; the runner said: {detail[-1500:]}" if detail else ""
        raise StoppedBeforeStudentCode(
            f"The run ended before any of the student's code ran (last stage: {stages[-1]}): "
            f"{_how(result)}{said}"
        )


def _how(result: SandboxResult) -> str:
    """How a run ended, for staff."""
    if result.signal is not None:
        ended = f"killed by signal {result.signal}"
    else:
        ended = f"exit code {result.exit_code}"
    stderr = result.stderr.strip()[-1500:]
    return f"{ended}, stopped because {result.stopped_because}, {result.isolation}; " + (
        f"stderr: {stderr}" if stderr else "no stderr"
    )


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


def _texts(modules: dict[str, bytes]) -> dict[str, str]:
    return {name: content.decode("utf-8", "replace") for name, content in modules.items()}


def run_python_tests(
    files: dict[str, bytes],
    runner_spec: dict,
    *,
    limits: Limits,
    collect: list[str] = (),
    replaced: dict[Path, bytes] | None = None,
    hidden: dict[str, bytes] | None = None,
    visible: dict[str, bytes] | None = None,
    shown: dict[str, str] | None = None,
) -> TestRun:
    """Run the harness's tests (``harness.HarnessSpec.runner_spec``) on ``files`` (the student's
    and the data) in a fresh scratch directory in the sandbox; ``hidden``: modules (the harness,
    private helpers) that are never files there: the tests import them from memory, and
    tracebacks show their ``shown`` view; ``visible``: the modules as the tests whose output the
    student sees get them (``harness.visible_modules``; default: ``hidden``); ``collect``: files
    the run writes (the checks' outputs) to read back as bytes, each at most 64 MB. Raises an
    ``InfrastructureFault`` when the run ended before the student's code was imported."""
    hidden = hidden or {}
    bundle = {
        "modules": _texts(hidden),
        "shown": shown or {},
        "visible": _texts(hidden if visible is None else visible),
    }
    files = {
        **files,
        "pyrunner-spec.json": json.dumps(runner_spec).encode(),
        "pyrunner-hidden.json": json.dumps(bundle).encode(),
    }
    with _scratch(files, (PYRUNNER, PYTESTER)) as (work, programs):
        args = ["pyrunner-spec.json", "status.json", "pyrunner-hidden.json"]
        result, key = _run(work, programs / PYRUNNER.name, args, limits, replaced)
        # The tests' outputs and tracebacks, each character at most 6 bytes of JSON.
        limit = MAX_STATUS_BYTES + 12 * limits.output_bytes
        status, tampered = _signed_status(work, key, limit=limit)
        collected = _collect(work, collect)
    if status is None:
        require_room(_scratch_folder(), limits)
    # With no test to run (every check refused before the run), no student code is imported.
    require_student_code(
        result,
        key,
        finished=status is not None and not runner_spec["tests"],
        detail=str((status or {}).get("import_error", "")),
    )
    return TestRun(status, result, tampered, collected)
