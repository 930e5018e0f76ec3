"""A seccomp filter that stops the sandboxed program from creating user namespaces and from using
the kernel's keyrings.

Why: with a root worker the sandbox runs in the host's user namespace as uid 65534, and an
unprivileged process may still create a user namespace of its own. Inside it, it could mount a
tmpfs that no rlimit bounds and fill the host's memory. So ``unshare`` and ``clone`` with
CLONE_NEWUSER fail with EPERM; ``clone3``, whose flags a filter cannot read, fails with ENOSYS,
which makes glibc fall back to ``clone`` (threads and ``fork`` keep working). System calls of
another ABI (i386, x32) are refused, so they cannot be used to get around the filter.

Keyrings (``add_key``, ``request_key``, ``keyctl`` fail with EPERM, as in Docker's default
profile): a uid's keyring is not in any namespace a sandbox has and outlives the run, so a run
could leave a key (a hidden test's text) for the next run of its uid to read.

``memfd_create`` fails with ENOSYS (as on a kernel without it; libraries fall back to files):
an anonymous file's memory is counted by no rlimit (RLIMIT_FSIZE caps each one, and there may
be as many as open files), where a file in ``/tmp`` or ``/dev/shm`` counts against their size.

The filter is classic BPF, as bubblewrap's ``--seccomp FD`` takes it: an array of
``struct sock_filter``.
"""

from __future__ import annotations

import errno
import platform
import struct

CLONE_NEWUSER = 0x10000000
X32_SYSCALL_BIT = 0x40000000

# machine: (AUDIT_ARCH_*, clone, unshare, clone3, (add_key, request_key, keyctl), memfd_create)
ARCHITECTURES = {
    "x86_64": (0xC000003E, 56, 272, 435, (248, 249, 250), 319),
    "aarch64": (0xC00000B7, 220, 97, 435, (217, 218, 219), 279),
}

_LOAD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_NR, _ARCH, _ARG0_LOW = 0, 4, 16  # offsets in struct seccomp_data (little-endian)


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def sandbox_filter(machine: str | None = None) -> bytes | None:
    """The filter for this machine's architecture, or None where it is not known."""
    arch = ARCHITECTURES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, clone, unshare, clone3, keyrings, memfd_create = arch
    refused = [
        op for nr in keyrings for op in (_op(_JEQ, nr, jt=0, jf=1), _op(_RET, _ERRNO | errno.EPERM))
    ]
    program = [
        _op(_LOAD, _ARCH),
        _op(_JEQ, audit_arch, jt=1),  # another ABI: refuse
        _op(_RET, _ERRNO | errno.EPERM),
        _op(_LOAD, _NR),
        _op(_JGE, X32_SYSCALL_BIT, jt=0, jf=1),  # x32 system calls: refuse
        _op(_RET, _ERRNO | errno.EPERM),
        _op(_JEQ, clone3, jt=0, jf=1),
        _op(_RET, _ERRNO | errno.ENOSYS),
        _op(_JEQ, memfd_create, jt=0, jf=1),
        _op(_RET, _ERRNO | errno.ENOSYS),
        *refused,
        _op(_JEQ, clone, jt=1),
        _op(_JEQ, unshare, jt=0, jf=3),
        _op(_LOAD, _ARG0_LOW),  # the flags of clone and unshare
        _op(_JSET, CLONE_NEWUSER, jt=0, jf=1),
        _op(_RET, _ERRNO | errno.EPERM),
        _op(_RET, _ALLOW),
    ]
    return b"".join(program)
