"""Running one command in the sandbox: choosing the isolation level and spawning under it.

The package's docstring (``autograder.sandbox``) describes the levels, the limits and what comes
back; ``bubblewrap`` builds the sandbox's command line, ``supervisor`` watches the run.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from pathlib import Path

# By module, not ``from autograder.sandbox import``: submodules never import the package.
import autograder.sandbox.bubblewrap as bubblewrap
import autograder.sandbox.host as host
import autograder.sandbox.warm as warm
from autograder.failures import InfrastructureFault
from autograder.sandbox.limits import Limits, SandboxResult
from autograder.sandbox.supervisor import Spawn, supervise

logger = logging.getLogger(__name__)
DEFAULT_LIMITS = Limits()
REPORT_FD_ENV = "AUTOGRADER_REPORT_FD"


class SandboxUnavailable(InfrastructureFault):
    """``AUTOGRADER_SANDBOX=bubblewrap`` was asked for and bubblewrap does not work here (another
    worker may have it: an infrastructure fault, retried)."""


def isolation_level() -> str:
    """``"bubblewrap"`` if it works on this machine (probed once per process), else
    ``"rlimits"``."""
    wanted = os.environ.get("AUTOGRADER_SANDBOX", "auto").strip().lower() or "auto"
    if wanted == "rlimits":
        _warn_weaker_isolation("AUTOGRADER_SANDBOX=rlimits is set")
        return "rlimits"
    works, why = bubblewrap.works(bubblewrap.BWRAP)
    if works:
        return "bubblewrap"
    if wanted == "bubblewrap":
        raise SandboxUnavailable(f"AUTOGRADER_SANDBOX=bubblewrap, but {why}")
    _warn_weaker_isolation(why)
    return "rlimits"


def run_sandboxed(
    argv: Sequence[str],
    *,
    workdir: Path,
    limits: Limits = DEFAULT_LIMITS,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    readonly_paths: Sequence[Path] = (),
    replaced_files: dict[Path, Path] | None = None,
    report: bool = False,
    warm: tuple[str, list[str]] | None = None,
) -> SandboxResult:
    """Run ``argv`` in ``workdir`` under ``limits``; see the module docstring. ``env`` is added to
    a minimal environment (PATH, HOME=workdir, LANG, PYTHONDONTWRITEBYTECODE), never to the
    worker's. With a root worker, ``workdir`` and its contents are handed to the run's uid.
    ``replaced_files``: files of the read-only system that the run sees with the content of
    another file (a data set with its held-out part removed); only bubblewrap can do that, so
    the result's ``isolation`` says whether they were. ``report``: the program gets the write end
    of a pipe (its number in ``REPORT_FD_ENV``) and what it writes there comes back as the
    result's ``report``; a program that keeps that fd to itself has a channel that nothing it
    starts can write to or read back from.

    A program given by a path is run by the path with its folders resolved (not its own name:
    a virtualenv's ``bin/python`` must stay the link it is), since the sandbox binds only
    resolved paths: a virtualenv reached through a symlink would not be found inside."""
    argv = [str(arg) for arg in argv]
    if not argv:
        raise ValueError("argv is empty")
    argv[0] = host.resolved_program(argv[0])
    workdir = _checked_workdir(workdir)
    readonly = [_existing(path) for path in readonly_paths]
    # At the path the program reads them by: the sandbox binds the Python installation by its
    # resolved path, so a file of a virtualenv reached through a symlink is replaced there.
    replaced_files = {_existing(dest): source for dest, source in (replaced_files or {}).items()}
    level = isolation_level()
    with host.sandbox_uid() as uid:
        report_read, report_write = os.pipe() if report else (None, None)
        try:
            extra = {REPORT_FD_ENV: str(report_write)} if report else {}
            child_env = host.minimal_env(workdir, {**(env or {}), **extra})
            warm_spawn = None
            if level == "bubblewrap" and warm is not None:
                warm_spawn = _warm_spawn(
                    warm, workdir, child_env, limits, uid, stdin, report_write, replaced_files
                )
            if warm_spawn is not None:
                spawn = warm_spawn
            elif level == "bubblewrap":
                spawn = _bubblewrap_spawn(
                    argv, workdir, child_env, limits, readonly, uid, replaced_files or {}
                )
            else:
                spawn = _rlimits_spawn(argv, workdir, child_env, readonly, uid)
        except BaseException:
            for fd in (report_read, report_write):
                if fd is not None:
                    os.close(fd)
            raise
        spawn.watch_dir = workdir
        if report:  # from here on ``supervise`` closes both ends
            spawn.pass_fds += (report_write,)
            spawn.report_fd = report_read
        return supervise(spawn, limits, stdin)


def _bubblewrap_spawn(argv, workdir, env, limits, readonly, uid, replaced) -> Spawn:
    if host.is_root():
        host.give_workdir_to(workdir, uid)
    lifeline_read, lifeline_write = os.pipe()  # the write end stays here only (not inheritable)
    filter_fd = bubblewrap.seccomp_filter_fd()
    command = bubblewrap.command(
        argv,
        workdir=workdir,
        env=env,
        limits=limits,
        readonly_paths=readonly,
        replaced_files=replaced,
        seccomp_fd=filter_fd,
        lifeline_fd=lifeline_read,
        uid=uid,
    )
    fds = (lifeline_read,) + (() if filter_fd is None else (filter_fd,))
    return Spawn(command, "bubblewrap", pass_fds=fds, hold_fds=(lifeline_write,))


def _warm_spawn(warm_run, workdir, env, limits, uid, stdin, report_write, replaced) -> Spawn | None:
    if report_write is None:
        return None  # the runners always report
    if host.is_root():
        host.give_workdir_to(workdir, uid)
    runner, args = warm_run
    started = warm.start(
        runner,
        list(args),
        workdir=workdir,
        env=env,
        limits=limits,
        uid=uid,
        has_stdin=stdin is not None,
        report_write=report_write,
        replaced=replaced or {},
    )
    if started is None:
        return None
    process, hold = started
    return Spawn([runner, *args], "bubblewrap", hold_fds=hold, process=process)


def _rlimits_spawn(argv, workdir, env, readonly, uid) -> Spawn:
    can_drop, why = host.fallback_can_drop_privileges(argv, workdir, env, readonly)
    if not can_drop:
        _warn_weaker_isolation(why)
        return Spawn(argv, "rlimits", cwd=workdir, env=env)
    host.give_workdir_to(workdir, uid)
    return Spawn(argv, "rlimits", cwd=workdir, env=env, user=uid, group=uid)


@functools.cache
def _warn_weaker_isolation(reason: str) -> None:
    logger.warning(
        "SANDBOX ISOLATION IS WEAKER: student code runs without bubblewrap (%s): only rlimits, "
        "its own session and a minimal environment; it can read what its uid can read and use "
        "the network.",
        reason,
    )


def _checked_workdir(workdir: Path) -> Path:
    real = Path(os.path.realpath(workdir))
    if not real.is_dir():
        raise NotADirectoryError(f"workdir {workdir} is not a directory")
    exposed = [p for p in [Path("/usr"), *host.python_roots()] if p.is_relative_to(real)]
    if exposed:
        raise ValueError(f"workdir {real} would expose {exposed[0]} read-write")
    return real


def _existing(path: Path) -> Path:
    real = Path(os.path.realpath(path))
    if not real.exists():
        raise FileNotFoundError(f"readonly path {path} does not exist")
    return real
