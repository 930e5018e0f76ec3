"""Facts about this host that both isolation levels share: the unprivileged identity student code
runs as, the environment it gets, the Python installation it may read, and its scratch directory.

The identity: RLIMIT_NPROC counts every process and thread of a real uid, and is never enforced
for root. So with a root worker, student code runs as a real non-root uid; and not one shared uid
such as 65534 ("nobody"), because then one fork bomb would use up the process budget of every
other sandbox running at the same time on the host (their forks, and even their start, would
fail). Each run gets a uid of its own instead: ``UID_BASE + pid * SLOTS + slot``, where pid is
the worker process's and slot is free within it, far above the uids of real accounts. Inside a
user namespace (a worker that is not root) the budget is per namespace already, and the program
shows as ``NAMESPACE_UID`` (65534).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import importlib.util
import logging
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import autograder.sandbox.host_cache as host_cache

UID_BASE = 1_000_000_000
SLOTS = 16  # sandboxes at once in one worker process
PID_LIMIT = 2**22  # the largest pid_max Linux allows
NAMESPACE_UID = 65534
MAX_ADDRESS_SPACE = 2**44  # a kept measurement past 16 TiB is not one
SANDBOX_USER = "student"  # the name student code sees for its uid (USER, LOGNAME)
_slots_in_use: set[int] = set()
_slots_lock = threading.Lock()
logger = logging.getLogger(__name__)

# Run by this interpreter outside any sandbox (trusted code): the peak address space of a process
# that has imported torch, in bytes.
_MEASURE_TORCH = (
    "import torch\n"
    "for line in open('/proc/self/status'):\n"
    "    if line.startswith('VmPeak:'):\n"
    "        print(int(line.split()[1]) * 1024)\n"
)


def is_root() -> bool:
    return os.geteuid() == 0


@contextlib.contextmanager
def sandbox_uid() -> Iterator[int]:
    """A uid (and the same gid) that no other sandbox running now has; see the module docstring."""
    with _slots_lock:
        slot = next((s for s in range(SLOTS) if s not in _slots_in_use), None)
        if slot is None:
            raise RuntimeError(f"more than {SLOTS} sandboxes at once in process {os.getpid()}")
        _slots_in_use.add(slot)
    try:
        yield UID_BASE + (os.getpid() % PID_LIMIT) * SLOTS + slot
    finally:
        with _slots_lock:
            _slots_in_use.discard(slot)


def python_roots() -> list[Path]:
    """The directories the interpreter running this code needs: the virtualenv and its base."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return sorted({Path(os.path.realpath(p)) for p in paths})


def interpreter_bin() -> Path:
    """The folder of the interpreter running this code, as the sandbox sees it (resolved)."""
    if sys.prefix != sys.base_prefix:  # a virtualenv
        return Path(os.path.realpath(sys.prefix)) / "bin"
    return Path(resolved_program(sys.executable)).parent


def resolved_program(program: str) -> str:
    """``program`` with the folders of its path resolved, its own name kept: what the sandbox,
    which binds only resolved paths, can find. Not ``realpath`` of the whole: a virtualenv's
    ``bin/python`` is a link to the base interpreter, and run by that path Python would not find
    the virtualenv (its ``pyvenv.cfg`` is looked for beside the path it is started by). A bare
    name is left to the sandbox's PATH, a relative path to the scratch directory."""
    if not os.path.isabs(program):
        return program
    folder, name = os.path.split(program)
    return os.path.join(os.path.realpath(folder), name)


def minimal_env(workdir: Path, extra: dict[str, str] | None) -> dict[str, str]:
    """All the child gets of an environment: nothing of the worker's (no SECRET_KEY,
    DATABASE_URL, tokens), the interpreter first on PATH, and what the caller passes."""
    env = {
        "PATH": f"{interpreter_bin()}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        # The sandbox uid has no passwd entry: getpass.getuser() reads these first, and torch
        # asks it for its compile cache's folder (seen with torch 2.11: "uid not found").
        "USER": SANDBOX_USER,
        "LOGNAME": SANDBOX_USER,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra or {})
    return env


def give_workdir_to(workdir: Path, uid: int) -> None:
    """Make the scratch directory (and what the caller put in it) the sandbox uid's, so student
    code can write there; the worker, as root, can still remove whatever it leaves behind.
    Symlinks are changed, never followed."""
    os.chown(workdir, uid, uid)
    for root, dirs, files in os.walk(workdir):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, uid)


def first_unreachable(paths: Iterable[Path]) -> Path | None:
    """The first of ``paths`` (or of their parents) that a uid with no special rights could not
    reach, or None. Used to decide whether the fallback can drop to the sandbox uid."""
    for path in paths:
        path = Path(os.path.realpath(path))
        for part in [*reversed(path.parents), path]:
            try:
                mode = os.stat(part).st_mode
            except OSError:
                return part
            if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
                return part
        if path.is_file() and not os.stat(path).st_mode & stat.S_IROTH:
            return path
    return None


def fallback_can_drop_privileges(
    argv: Sequence[str], workdir: Path, env: dict[str, str], readonly_paths: Sequence[Path]
) -> tuple[bool, str]:
    """Whether the rlimits fallback can run ``argv`` as the sandbox uid, and if not, why."""
    if not is_root():
        return False, f"the worker is not root (uid {os.geteuid()}); the child keeps its uid"
    executable = _program_path(argv[0], workdir, env["PATH"])
    if executable is None:
        return False, f"{argv[0]!r} is not on the sandbox PATH"
    real = Path(os.path.realpath(executable))
    needed = [real, workdir.parent, *readonly_paths]  # workdir itself is handed to that uid
    needed += [root for root in python_roots() if real.is_relative_to(root)]
    blocked = first_unreachable(needed)
    if blocked is not None:
        return False, f"an unprivileged uid cannot reach {blocked}; the child runs as root"
    return True, ""


def _program_path(program: str, workdir: Path, path: str) -> str | None:
    if "/" not in program:
        return shutil.which(program, path=path)
    candidate = workdir / program  # the child resolves it after changing to workdir
    return str(candidate) if candidate.exists() else None


@functools.lru_cache(maxsize=1)
def torch_address_space() -> int:
    """The address space this interpreter maps once it has imported torch; 0 where that cannot
    be known (no torch, no ``/proc``). A CPU build maps ~0.6 GiB; a CUDA build maps several GiB
    of libraries (cuBLAS, cuDNN, the kernels) that student code in the sandbox, which has no GPU,
    never touches. RLIMIT_AS is this plus ``Limits.memory_bytes``, so that an assignment's memory
    limit leaves students the same room on a GPU worker as on a CPU one (with RLIMIT_AS at the
    limit alone, ``import torch`` fails there: "failed to map segment").

    Measured once per host, not per process: importing torch in a child takes seconds (8 s on a
    loaded machine), which each new worker process paid inside its first grading. The result is
    kept (``host_cache``) under a key of everything that changes what ``import torch`` maps."""
    key = _torch_install_key()
    if key is None:
        return 0
    kept = host_cache.read("torch-address-space", key)
    if isinstance(kept, int) and not isinstance(kept, bool) and 0 < kept < MAX_ADDRESS_SPACE:
        return kept
    loaded = _measure_torch_address_space()
    if loaded:
        host_cache.write("torch-address-space", key, loaded)
    return loaded


def _torch_install_key() -> dict | None:
    """What decides what ``import torch`` maps here, found without importing it: the interpreter
    (its real path and mtime), the environment, torch's version and where it is installed (the
    folder's mtime changes when it is reinstalled), and the host. None without torch."""
    try:
        spec = importlib.util.find_spec("torch")
        if spec is None or not spec.submodule_search_locations:
            return None
        package = os.path.realpath(spec.submodule_search_locations[0])
        python = os.path.realpath(sys.executable)
        return {
            "python": python,
            "python_mtime_ns": os.stat(python).st_mtime_ns,
            "prefix": os.path.realpath(sys.prefix),
            "torch": importlib.metadata.version("torch"),
            "torch_path": package,
            "torch_mtime_ns": os.stat(package).st_mtime_ns,
            "host": os.uname().nodename,
        }
    except (ImportError, ValueError, OSError, importlib.metadata.PackageNotFoundError):
        return None


def _measure_torch_address_space() -> int:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE_TORCH],
            capture_output=True,
            text=True,
            timeout=300,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
        )
        loaded = int(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        logger.warning("could not measure what importing torch maps; memory limits count it")
        return 0
    logger.info("importing torch maps %d MiB here, added to each run's memory limit", loaded >> 20)
    return loaded
