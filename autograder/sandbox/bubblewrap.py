"""The bubblewrap command line for one run, and whether bubblewrap works on this host at all.

What the sandbox sees: ``/usr`` and the ``/bin``, ``/lib*`` links, ``/etc/ld.so.cache`` and
``/etc/alternatives``, the Python installation and virtualenv running this code, the caller's
``readonly_paths`` (all read-only), the scratch directory (read-write), a private ``/proc``,
``/dev``, size-capped ``/tmp`` and ``/dev/shm``, and nothing else: not ``/root``, ``/home``, the
project, its database or settings, other scratch directories. It has its own pid, network (only a
loopback of its own), IPC, UTS and cgroup namespaces; it may not create user namespaces (see
``seccomp``); it dies with the worker, even one killed while the sandbox starts (``_init``).

Two ways to get an unprivileged uid, because RLIMIT_NPROC is not enforced for uid 0:

* worker running as root: bubblewrap runs without a user namespace (root may create the others
  directly) and keeps only the capabilities ``setpriv`` needs, which then switches to the run's
  own uid (``host.sandbox_uid``) for real, with no capabilities, an empty bounding set and
  no-new-privs. A user
  namespace would not do: bubblewrap maps the sandbox uid onto the caller's, so the program
  would still be root outside, and RLIMIT_NPROC would not hold.
* worker running as another user: the usual unprivileged bubblewrap, in a user namespace that maps
  the sandbox uid onto the worker's, with further user namespaces disabled.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from autograder.sandbox.host import (
    NAMESPACE_UID,
    give_workdir_to,
    is_root,
    minimal_env,
    python_roots,
    sandbox_uid,
)
from autograder.sandbox.limits import Limits
from autograder.sandbox.seccomp import sandbox_filter

BWRAP = shutil.which("bwrap") or "/usr/bin/bwrap"
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"
SYSTEM_READONLY = ("/usr", "/etc/ld.so.cache", "/etc/alternatives")
TOP_LEVEL_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


def command(
    argv: Sequence[str],
    *,
    workdir: Path,
    env: dict[str, str],
    limits: Limits,
    readonly_paths: Sequence[Path] = (),
    replaced_files: dict[Path, Path] | None = None,
    seccomp_fd: int | None = None,
    lifeline_fd: int | None = None,
    uid: int | None = None,
    bwrap: str | None = None,
) -> list[str]:
    """``uid``: what a root worker runs the program as (required then; ignored otherwise).
    ``lifeline_fd``: the read end of a pipe whose write end only the worker holds (see
    ``_init``)."""
    args = [bwrap or BWRAP, *_namespaces(), "--die-with-parent", "--new-session", "--as-pid-1"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args += mounts(workdir, readonly_paths, limits, replaced_files or {})
    args += ["--chdir", str(workdir), "--clearenv"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    return [*args, *_capabilities(), "--", *_init(lifeline_fd), *_become(uid), *argv]


def _init(lifeline_fd: int | None) -> list[str]:
    """Pid 1 of the sandbox (bubblewrap's --as-pid-1): runs the program, waits for it and exits
    with its status, which ends the pid namespace and everything left in it. Not bubblewrap's own
    pid 1: bubblewrap's monitor exits without reaping that one, and the run's CPU time is lost
    with it. With a root worker it stays root (the program cannot signal or ptrace it).

    --die-with-parent only covers a worker that dies once the sandbox is up: bubblewrap sets
    the parent-death signal in its monitor just after clone() and in the sandbox just before
    exec, so a worker killed while bubblewrap sets up leaves a sandbox that nothing ever stops
    (its wall clock is the dead worker's to enforce). Hence the lifeline: a pipe whose write end
    only the worker holds. A watcher beside the program blocks reading it; the worker never
    writes, so the read returns only when the worker is gone, whenever that happened, and the
    watcher then kills every process of the sandbox (pid 1 then exits, its program gone); only
    ever as pid 1's child, which is what confines ``kill -1`` to the sandbox. The program starts
    first, so that a watcher which finds the worker already gone cannot kill too early. The
    program itself does not get the pipe.

    bash, not dash: dash only redirects fds 0 to 9. bash's own notices ("Killed") go to
    /dev/null, not into the program's stderr, and its variables (SHLVL, _) do not reach the
    program's environment.

    Not covered: a worker that dies in the instant between bubblewrap's monitor arming its
    parent-death signal and letting the sandbox go on (two system calls apart) leaves the
    sandbox's setup process blocked for good; it has not started the program."""
    if lifeline_fd is None:
        return ["/bin/sh", "-c", '"$@"; exit "$?"', "sandbox-init"]
    fd = int(lifeline_fd)
    script = (
        f"exec {{err}}>&2 2>/dev/null; "
        f'/usr/bin/env -u _ -u SHLVL "$@" <&0 2>&"$err" {fd}<&- {{err}}>&- & program=$!; '
        f'{{ read -r -u {fd} _; [ "$$" = 1 ] && kill -KILL -1; }} >/dev/null & '
        f'exec {fd}<&- {{err}}>&-; wait "$program"; exit "$?"'
    )
    return ["/bin/bash", "--norc", "--noprofile", "-c", script, "sandbox-init"]


def _namespaces() -> list[str]:
    if is_root():
        shared = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        return [*shared, "--unshare-cgroup-try", "--hostname", "sandbox"]
    return ["--unshare-all", "--unshare-user", "--disable-userns", "--hostname", "sandbox"]


def _capabilities() -> list[str]:
    if not is_root():
        inside = str(NAMESPACE_UID)
        return ["--uid", inside, "--gid", inside, "--cap-drop", "ALL"]
    # Only what setpriv needs to switch uid (which then clears them all), DAC_READ_SEARCH so
    # that bubblewrap can --chdir into a 0700 workdir that belongs to the sandbox uid, and KILL
    # for the lifeline's watcher (root, signalling the run's uid; ``_init``). A process in the
    # sandbox's pid namespace sees, and so can signal, only the processes of that namespace.
    caps = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_DAC_READ_SEARCH", "CAP_KILL")
    return ["--cap-drop", "ALL", *(arg for cap in caps for arg in ("--cap-add", cap))]


def _become(uid: int | None) -> list[str]:
    if not is_root():
        return []  # bubblewrap's user namespace already made the program NAMESPACE_UID
    if uid is None:
        raise ValueError("a root worker must give the uid to run the program as")
    return [
        SETPRIV,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--nnp",
        "--",
    ]


def mounts(
    workdir: Path, readonly_paths: Sequence[Path], limits: Limits, replaced=None
) -> list[str]:
    """Mount options, parents before children (``--tmpfs /tmp`` before a workdir under /tmp),
    with every directory bubblewrap has to create on the way made traversable (it would make
    them 0700, which the sandbox uid could not pass). ``replaced``: a file seen at a path → the
    file whose content it shows there (bound read-only over it)."""
    ops = _mount_ops(workdir, readonly_paths, limits)
    for dest, source in (replaced or {}).items():
        ops[str(dest)] = ("--ro-bind", str(source), str(dest))
    binds = [dest for dest, op in ops.items() if op[0].endswith("bind")]
    for dest in list(ops):
        for parent in Path(dest).parents:
            parent = str(parent)
            if parent == "/" or parent in ops or any(_inside(parent, b) for b in binds):
                continue
            ops[parent] = ("--perms", "0755", "--dir", parent)
    ordered = sorted(ops, key=lambda dest: len(Path(dest).parts))
    return [arg for dest in ordered for arg in ops[dest]]


def _mount_ops(
    workdir: Path, readonly_paths: Sequence[Path], limits: Limits
) -> dict[str, tuple[str, ...]]:
    ops: dict[str, tuple[str, ...]] = {}
    for name in TOP_LEVEL_LINKS:
        path = f"/{name}"
        if os.path.islink(path):
            ops[path] = ("--symlink", os.readlink(path), path)
    readonly = [Path(p) for p in SYSTEM_READONLY if os.path.exists(p)]
    readonly += [Path(f"/{n}") for n in TOP_LEVEL_LINKS if f"/{n}" not in ops]
    readonly += python_roots() + [Path(os.path.realpath(p)) for p in readonly_paths]
    for path in _outermost(p for p in readonly if p.exists()):
        ops[str(path)] = ("--ro-bind", str(path), str(path))
    size = str(limits.file_size_bytes)
    ops["/proc"] = ("--proc", "/proc")
    ops["/dev"] = ("--dev", "/dev")
    ops["/dev/shm"] = ("--perms", "1777", "--size", size, "--tmpfs", "/dev/shm")
    ops["/tmp"] = ("--perms", "1777", "--size", size, "--tmpfs", "/tmp")
    ops[str(workdir)] = ("--bind", str(workdir), str(workdir))
    return ops


def _outermost(paths) -> list[Path]:
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept


def _inside(path: str, ancestor: str) -> bool:
    return path != ancestor and Path(path).is_relative_to(ancestor)


def seccomp_filter_fd() -> int | None:
    """A pipe to read ``seccomp.sandbox_filter()`` from (None on an unknown
    architecture); the caller passes it to bubblewrap and closes it."""
    program = sandbox_filter()
    if program is None:
        return None
    read, write = os.pipe()
    os.write(write, program)  # a few hundred bytes: far less than a pipe holds
    os.close(write)
    return read


_WORKING: set[str] = set()


def works(bwrap: str) -> tuple[bool, str]:
    """Whether a sandbox built by ``command`` starts here. A success is kept for the process; a
    failure is probed again next time: one slow start on a loaded machine must not leave the
    process grading with the weaker fallback for good."""
    if bwrap in _WORKING:
        return True, ""
    answer = _probe(bwrap)
    if answer[0]:
        _WORKING.add(bwrap)
    return answer


def _probe(bwrap: str) -> tuple[bool, str]:
    if not os.access(bwrap, os.X_OK):
        return False, f"{bwrap} is not installed"
    if is_root() and not os.access(SETPRIV, os.X_OK):
        return False, f"{SETPRIV} (util-linux) is missing; a root worker needs it to drop to uid"
    with tempfile.TemporaryDirectory(prefix="sandbox-probe-") as scratch, sandbox_uid() as uid:
        workdir = Path(scratch)
        if is_root():
            give_workdir_to(workdir, uid)
        env = minimal_env(workdir, None)
        filter_fd = seccomp_filter_fd()
        lifeline_read, lifeline_write = os.pipe()
        argv = command(
            ["true"],
            workdir=workdir,
            env=env,
            limits=Limits(),
            seccomp_fd=filter_fd,
            lifeline_fd=lifeline_read,
            uid=uid,
            bwrap=bwrap,
        )
        fds = (lifeline_read,) + (() if filter_fd is None else (filter_fd,))
        try:
            done = subprocess.run(argv, capture_output=True, timeout=30, pass_fds=fds)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"{bwrap} could not start a sandbox: {exc}"
        finally:
            for fd in (*fds, lifeline_write):
                os.close(fd)
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()
        return False, f"{bwrap} failed here (exit {done.returncode}): {stderr[:300]}"
    return True, ""
