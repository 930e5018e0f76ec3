"""The sandbox: the one place student code runs. Never in the web or worker process.

    result = run_sandboxed([sys.executable, "run.py"], workdir=scratch, limits=Limits(...))

runs a command in ``workdir`` and returns a ``SandboxResult``: exit code or signal, the first
``output_bytes`` of stdout and of stderr, wall and CPU time, peak memory, why it stopped
(``"exited"``, ``"timeout"``, ``"cpu_limit"``, ``"memory_limit"``, ``"output_limit"``,
``"disk_limit"``, ``"signal"``) and which isolation it had. A student's crash, timeout or flood
is a result, never an exception. Only text comes back; whatever files the program writes in
``workdir`` are the caller's to read as data (JSON, notebooks, ``.npy`` without pickle), never to
unpickle or eval.

Isolation levels (``isolation_level()``; the grading run records it):

* ``"bubblewrap"``: see ``autograder.sandbox.bubblewrap``: no network, no host files but the
  interpreter, the system libraries, ``readonly_paths`` and ``workdir``, a private ``/tmp``, its own
  pid namespace, an unprivileged uid of its own (see ``host``) with no capabilities, unable to
  create user namespaces, plus the rlimits below.
  A run of a runner (``nbrunner``, ``pyrunner``) is *warm* where the worker is root and
  ``AUTOGRADER_WARM`` is not ``off`` (``warm``): a zygote in bubblewrap, which imported torch,
  the kernel and the runners once, clones the run into new mount, pid, network, IPC, UTS and
  cgroup namespaces of its own, with a fresh ``/tmp``, ``/dev/shm`` and ``/proc``, its scratch
  directory bound back at its path and every other run's out of sight, and the same uid,
  capabilities (none), no-new-privs, seccomp filter and rlimits as above (``zygote``). Recorded
  as ``"bubblewrap"`` too: what the program can see and do is the same.
* ``"rlimits"``: the fallback when bubblewrap is missing or cannot start here: a child in its
  own session with the rlimits, the minimal environment and ``cwd=workdir``, as an unprivileged
  uid when the worker is root and such a uid can reach the program and the scratch directory
  (else as root, where RLIMIT_NPROC does not hold and the program can signal any process). It
  can read what its uid can read and use the network; logged as a warning.

``AUTOGRADER_SANDBOX`` chooses: unset or ``auto`` (bubblewrap where it works, else the
fallback), ``rlimits`` (always the fallback), ``bubblewrap`` (refuse to run without it:
``SandboxUnavailable``).

Limits for every level: RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_FSIZE, no core
files; the wall clock kills the whole process group (with bubblewrap: the whole pid namespace);
output beyond ``output_bytes`` stops the run, and so does a scratch directory grown past
``disk_bytes`` or ``disk_entries`` (measured every 20 to 250 ms, by the tree's size: many
files each under RLIMIT_FSIZE would otherwise fill the worker's disk). Nothing the program
starts outlives the call, nor the worker: if the worker dies, at any moment, the sandbox goes
with it (bubblewrap's --die-with-parent once it is up, the lifeline of ``bubblewrap._init`` while
it starts).

Where this differs from the design notes: the program does not run as uid 65534 but as a uid of
its own per run (``host.sandbox_uid``), because RLIMIT_NPROC is counted per uid, and with one
shared uid a fork bomb in one sandbox made every other sandbox on the host fail to fork. Under
bubblewrap, a program that exits with 128 + n is reported as killed by signal n (bubblewrap and
the sandbox's pid 1 pass a signal death on that way, as a shell does).
"""

from autograder.sandbox.limits import STOP_REASONS, Limits, SandboxResult
from autograder.sandbox.runner import (
    REPORT_FD_ENV,
    SandboxUnavailable,
    isolation_level,
    run_sandboxed,
)

__all__ = [
    "REPORT_FD_ENV",
    "STOP_REASONS",
    "Limits",
    "SandboxResult",
    "SandboxUnavailable",
    "isolation_level",
    "run_sandboxed",
]
