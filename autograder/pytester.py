"""The tester of a Python-file assignment (``pyrunner``'s other process): it runs the student's
code, and reports each test over a pipe to the runner, which holds the key and the clock.

    python -I -B pytester.py FD GO_FD  < PAYLOAD

Started by the runner for each group of tests, isolated, from the read-only folder beside the
student's: FD is the pipe it reports on, GO_FD the one it waits on for the runner's go (before the
student's code is imported, and before each check, whose inputs the runner writes then); PAYLOAD
(JSON) holds the spec, the range of tests, the modules this group may see, and the key it seals
the checks' guard with. See ``pyrunner``'s docstring for why each of these is so.

It imports nothing from the project (the guard and probes beside it only).
"""

import contextlib
import ctypes
import importlib.abc
import importlib.util
import io
import json
import linecache
import os
import sys
import tempfile
import traceback


def output_limit(spec: dict) -> int:
    """Characters of output kept per test (and as much again of its traceback)."""
    return max(1024, spec["output_bytes"] // max(len(spec["tests"]), 1))


class _Capped(io.StringIO):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit, self.cut = limit, False

    def write(self, text: str) -> int:
        room = self.limit - self.tell()
        if len(text) > room:
            self.cut = True
            text = text[: max(room, 0)]
        return super().write(text) if text else 0


@contextlib.contextmanager
def _descriptor_output(captured: _Capped):
    """What a test writes to file descriptor 1 itself (``os.write(1, ...)``, a C library's
    ``printf``) or through a process it starts, which inherits it: ``redirect_stdout`` sees only
    ``sys.stdout``, and the rest went to the runner's standard output, which no grade reads. It
    goes to a spool file while the test runs, then into ``captured`` (its cap and all)."""
    try:
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    except OSError:  # the student's code left no descriptor (or no /tmp) for it
        yield
        return
    _flush_stdout()  # what the import (or the test before) wrote stays out of this test's output
    try:
        saved = os.dup(1)
    except OSError:
        spool.close()
        yield
        return
    os.dup2(spool.fileno(), 1)
    data = b""
    try:
        yield
    finally:
        _flush_stdout()  # what the test left in the buffer is its own
        with contextlib.suppress(OSError):  # the test's code may have closed them
            os.dup2(saved, 1)
            os.close(saved)
        with contextlib.suppress(OSError):
            spool.seek(0)
            data = spool.read(4 * captured.limit + 4)  # more than the cap keeps: it cuts
        spool.close()
    if data:
        captured.write(data.decode("utf-8", errors="replace"))


def _flush_stdout() -> None:
    """``sys.__stdout__``'s buffer, and the C library's (``printf`` to a file is buffered until
    it fills), out to descriptor 1. The student's code may have replaced ``sys.__stdout__``,
    closed it or its ``flush`` (None, a number, a function that raises): that is no reason for
    the test after it to fail."""
    with contextlib.suppress(Exception):
        sys.__stdout__.flush()
    with contextlib.suppress(Exception):
        _C_FLUSH(None)  # every stream the C library holds


try:  # loaded before the student's code runs
    _C_FLUSH = ctypes.CDLL(None).fflush
except (OSError, AttributeError):  # no C library to flush
    _C_FLUSH = None


def _send(pipe, message: dict) -> None:
    pipe.write(json.dumps(message) + "\n")
    pipe.flush()


class _FromMemory(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the hidden modules (top-level ``NAME.py``) from their sources in memory."""

    def __init__(self, modules: dict[str, str]) -> None:
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):
        if path is None and f"{fullname}.py" in self.modules:
            return importlib.util.spec_from_loader(fullname, self, origin=f"{fullname}.py")
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        name = f"{module.__name__}.py"
        module.__file__ = name
        source = self.modules.pop(name)  # not left lying here for the student's code to read
        exec(compile(source, name, "exec", dont_inherit=True), module.__dict__)


def _load_modules(bundle: dict) -> None:
    """The harness and private modules (from the runner's pipe, read before any of the student's
    code runs) importable from memory; tracebacks get the visible view of their lines."""
    for name, text in bundle.get("shown", {}).items():
        lines = text.splitlines(keepends=True)
        linecache.cache[name] = (len(text), None, lines, name)  # no mtime: never re-read
    sys.meta_path.insert(0, _FromMemory(bundle.get("modules", {})))


def _preflight() -> None:
    """What the student's code may take is counted on top of an interpreter with torch loaded:
    if that cannot load here, the run's limits are the machine's fault, not the student's."""
    if importlib.util.find_spec("torch") is not None:
        __import__("torch")


def tester(fd: int, go_fd: int) -> None:
    pipe = os.fdopen(fd, "w", encoding="utf-8")
    go = os.fdopen(go_fd, "rb")
    bundle = json.loads(sys.stdin.buffer.read() or b"{}")
    spec, probe_key = bundle["spec"], bundle.get("probe_key", "")
    sys.stdin.close()
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the student's code may read it
    start, stop = bundle["start"], bundle["stop"]
    limit = output_limit(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # probes, beside this file
    try:
        # Before the student's folder is on the path: torch and the guard as they are.
        _preflight()
        if any("probe" in test for test in spec["tests"][start:stop]):
            # What the guard takes from torch is torch as it was before the student's code.
            __import__("guard").seal(probe_key)
    except BaseException:  # nothing of the student's has run: the machine's fault
        _send(pipe, {"event": "preflight_error", "output": _trace(limit)})
        return
    _load_modules(bundle)
    sys.path.insert(0, os.getcwd())
    sys.argv = [spec["harness"] or "pyrunner.py"]
    try:
        # None of the student's code has run before this. Wait until the runner has noted it:
        # the student's code could kill the runner before it read the message.
        _send(pipe, {"event": "importing"})
        go.readline()
        harness = __import__(spec["harness"][:-3]) if spec.get("harness") else None
    except BaseException:  # whatever the import raised is the student's feedback
        _send(pipe, {"event": "import_error", "output": _trace(limit)})
        return
    for index in range(start, stop):
        test = spec["tests"][index]
        _send(pipe, {"event": "start", "index": index})
        if "probe" in test:
            go.readline()  # the runner has written this check's inputs
        captured = _Capped(limit)
        status, extra = "passed", ""
        with (
            _descriptor_output(captured),
            contextlib.redirect_stdout(captured),
            contextlib.redirect_stderr(captured),
        ):
            try:
                if "probe" in test:
                    _probe(test["probe"])
                else:
                    getattr(harness, test["function"])()
            except AssertionError as exc:
                status, extra = "failed", _assertion(exc)
            except SystemExit as exc:
                status, extra = "failed", f"The code called sys.exit({exc.code!r}) during the test."
            except BaseException:
                status, extra = "failed", _trace(limit)
        output = captured.getvalue()
        if captured.cut:
            output += f"\n[output cut: more than {limit // 1024} KB]"
        output = (output.rstrip("\n") + "\n" + extra).strip("\n") if extra else output
        _send(pipe, {"event": "done", "index": index, "status": status, "output": output})


def _probe(check: dict) -> None:
    """A reference check (autograder.checks): the sealed guard runs the student's object and
    saves its outputs."""
    sys.audit("autograder.check", json.dumps(check))


def _assertion(exc: AssertionError) -> str:
    message = str(exc)
    if type(exc).__name__ == "CheckFailed":  # a reference check's finding, told as it is
        return message
    return f"AssertionError: {message}" if message else "AssertionError (the test failed)"


def _trace(limit: int) -> str:
    """The exception, without the frames of this file."""
    kind, value, tb = sys.exc_info()
    ours = ("pytester.py", "pyrunner.py", "probes.py", "guard.py")
    frames = [f for f in traceback.extract_tb(tb) if not f.filename.endswith(ours)]
    lines = traceback.format_list(frames) + traceback.format_exception_only(kind, value)
    text = "Traceback (most recent call last):\n" + "".join(lines)
    return text.replace(os.getcwd() + os.sep, "")[-limit:]  # the scratch folder means nothing


if __name__ == "__main__":
    tester(int(sys.argv[1]), int(sys.argv[2]))
