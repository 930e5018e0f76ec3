"""The kernel of nbrunner's notebook, started by the fork server (``forkserver``) rather than by
jupyter_client: ``kernel`` is what the forked process runs (what ``python -m ipykernel_launcher -f
FILE`` does), and ``start_kernel`` gives nbclient a kernel manager for it.

Copied beside the runners into the sandbox's read-only folder; it imports nothing from the
project.
"""

import contextlib
import importlib.util
import os
import queue
import secrets
import signal
import sys
import time

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.manager import AsyncKernelManager

HERE = os.path.dirname(os.path.abspath(__file__))
RECONNECT_MS = 5
RUNNER_MODULES = (
    "nbrunner",
    "nbkernel",
    "pyrunner",
    "pytester",
    "keyholder",
    "forkserver",
    "zygote",
)


def kernel(connection_file: str) -> None:
    """The kernel, in a process the fork server started: what ``python -m ipykernel_launcher -f
    FILE`` (the python3 kernelspec) does, with what this process had imported already (in a warm
    sandbox, torch). The runners' own folder and modules are taken off the path first."""
    for name in RUNNER_MODULES:
        sys.modules.pop(name, None)
    sys.path[:] = [entry for entry in sys.path if entry not in ("", HERE)]
    launcher = importlib.util.find_spec("ipykernel_launcher")
    sys.argv = [launcher.origin if launcher else "ipykernel_launcher", "-f", connection_file]
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=[*sys.argv[1:], "--HistoryManager.hist_file=:memory:"])


class _Client(AsyncKernelClient):
    """jupyter_client's client, but ready as soon as the kernel has answered ``kernel_info`` and
    its IOPub channel has delivered: jupyter_client then also waits until IOPub has been silent
    for 0.2 s, a fixed cost on every run that changes nothing here (the runner reads a cell's
    output by the message it answers)."""

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (60.0 if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=0.5)
            except queue.Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:  # IOPub is connected once something arrives on it
                    await self.iopub_channel.get_msg(timeout=0.2)
                except queue.Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        with contextlib.suppress(queue.Empty):
            while True:
                await self.iopub_channel.get_msg(timeout=0.005)

    wait_for_ready = _async_wait_for_ready

    def start_channels(self, *args, **kwargs) -> None:
        """Connected while the kernel starts, before it listens: ZMQ tries again after 100 ms by
        default, which every run waited (twice: the shell and IOPub channels)."""
        self.context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
        super().start_channels(*args, **kwargs)


class _ForkedKernelManager(AsyncKernelManager):
    """The kernel the fork server started, for nbclient: alive while its process is, interrupted
    with SIGINT to its process group (as the python3 kernelspec's "signal" mode does)."""

    proc = None

    @property
    def has_kernel(self) -> bool:
        return self.proc is not None

    async def _async_is_alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    is_alive = _async_is_alive

    async def _async_interrupt_kernel(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGINT)

    interrupt_kernel = _async_interrupt_kernel

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        self.stop()

    shutdown_kernel = _async_shutdown_kernel

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait()
            self.proc.close()
            self.proc = None


def start_kernel(server) -> _ForkedKernelManager:
    """A kernel started by the fork server, on the loopback of the sandbox's own network, with
    its connection file where jupyter puts it (the runtime folder under HOME)."""
    from jupyter_core.paths import jupyter_runtime_dir

    folder = jupyter_runtime_dir()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"kernel-{secrets.token_hex(8)}.json")
    write_connection_file(path, ip="127.0.0.1", key=secrets.token_hex(16).encode())
    manager = _ForkedKernelManager(kernel_name="python3", client_factory=_Client)
    manager.load_connection_file(path)
    manager.proc = server.spawn("kernel", [path])
    return manager
