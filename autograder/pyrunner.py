"""Runs the tests of a Python-file assignment. This file is run in the sandbox, from a read-only
folder beside the student's (never from the folder the student's code can write to), next to the
student's files: the worker reads what it writes only as JSON data, never as code.

    python -I -B pyrunner.py SPEC.json STATUS.json HIDDEN.json  < KEY

Two processes, as nbrunner has the kernel: this one (the runner) holds the key and never runs the
student's code; it starts a fresh, isolated interpreter (the tester: ``pytester.py FD GO_FD``,
copied beside this file) that imports the harness, which imports the student's files, and calls the
test functions one by one, reporting each over a pipe. The runner gives each test ``test_timeout``
seconds: a test that runs longer, or that ends the tester (``sys.exit`` is caught; ``os._exit``, a
crash or a kill is not), fails, and a new tester goes on with the next test. What the tests print is
kept per test, up to a cap. STATUS.json carries an HMAC under the one-time key the worker sent on
standard input, so a file the student's code writes in its place fails the check.

The runner reads SPEC.json and HIDDEN.json and deletes them before any tester starts; a tester
gets what it needs (the spec, the modules) on its standard input, from the runner's memory, and
reads it before the student's code is imported. Nothing a tester runs comes from the student's
folder before that: it is started from this read-only file, isolated (``-I``: not the folder's
modules, nor ``PYTHON*`` variables, nor a user site or ``.pth`` file the student's code wrote
for the next tester), so a test that rewrites the spec, this file or a module the tester uses,
and then ends its process, changes nothing for the tests after it.

The harness and the instructor's private modules are never files here: the tester imports them
from memory. Visible tests (and visible checks) run first, in testers that get the harness
without its hidden test functions (and without private modules that only those import); the
hidden ones run last, in testers of their own, whose output the student never sees. So the
hidden tests' code is never in a process whose output reaches the student, however that output
encodes it. Tracebacks show the lines of the visible tests only (the view HIDDEN.json gives).

How far it got goes on the report channel (``AUTOGRADER_REPORT_FD``), signed with the key: a pipe
only the runner holds (no tester inherits it, and the runner is not dumpable): ``started`` once it
has the key, ``student`` when the first tester is about to import the student's code (it waits
for the runner to have signed that). A run that never got to ``student`` is taken for an
infrastructure fault by the worker, not for a score. Before that, each tester imports torch
(where the interpreter has it): an interpreter that cannot load it within the run's limits is
the machine's fault, not the student's code.

A reference check's inputs file is read and removed before the tester starts, and written back
only when that check's turn comes (the tester asks, and waits for the runner's go), so the
student's code cannot work on a check's inputs (a training set) ahead of the check's clock. Before
it imports any of the student's code, a tester seals the checks' guard (guard.py) under a key of
its own, sent with its payload on standard input and listed in the signed status (``probe_keys``).

It imports nothing from the project but its siblings copied beside it: ``keyholder`` (the key and
the report channel, as nbrunner holds them) and ``pytester`` (the tester's side of the pipe).
"""

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import selectors
import signal
import sys
import time

# The siblings copied beside this file, in its read-only folder (``-I`` leaves it off the path).
sys.path.append(os.path.dirname(os.path.abspath(__file__)))
import forkserver
import keyholder
import pytester

IMPORT_TIMEOUT = 120  # seconds to import the harness and the student's files (torch is slow)
MESSAGE_ROOM = 64 * 1024  # a message's own fields, beyond its test's output


def _line_limit(spec: dict) -> int:
    """The longest message a tester sends: a test's output and traceback at their limits, each
    character escaped by JSON into at most 6 bytes."""
    return 12 * pytester.output_limit(spec) + MESSAGE_ROOM


# The runner: holds the key, enforces the time per test, signs the results.


def _start_tester(server, payload: bytes):
    """A tester, forked by the fork server (which split off before this process read its key:
    see ``forkserver``); ``payload`` on its standard input."""
    read, write = os.pipe()
    go_read, go_write = os.pipe()
    stdin_read, stdin_write = os.pipe()
    try:
        proc = server.spawn("tester", fds=(write, go_read), stdin=stdin_read)
    finally:
        for fd in (write, go_read, stdin_read):
            os.close(fd)
    # A tester that died at once: its end tells the rest.
    with contextlib.suppress(OSError), open(stdin_write, "wb") as stdin:
        stdin.write(payload)
    return proc, os.fdopen(read, "rb"), os.fdopen(go_write, "wb", buffering=0)


def tester(report_fd: int, go_fd: int) -> None:
    """The tester's process: ``pytester`` with the runners' modules off the path it imports the
    student's code with."""
    for name in ("pyrunner", "nbrunner", "nbkernel", "keyholder", "forkserver", "zygote"):
        sys.modules.pop(name, None)
    pytester.tester(report_fd, go_fd)


def _group_end(tests: list[dict], start: int) -> int:
    """Where the group of tests that ``start`` begins ends: visible and hidden tests never share
    a tester (the visible ones' output reaches the student)."""
    hidden = bool(tests[start].get("hidden"))
    stop = start
    while stop < len(tests) and bool(tests[stop].get("hidden")) == hidden:
        stop += 1
    return stop


def _payload(spec: dict, bundle: dict, start: int, stop: int, probe_key: str) -> bytes:
    """What a tester for ``tests[start:stop]`` gets: the spec, the modules its group may see, and
    the key it seals the checks' guard with."""
    group = "modules" if spec["tests"][start].get("hidden") else "visible"
    modules = bundle.get(group, bundle.get("modules", {}))
    payload = {
        "spec": spec,
        "start": start,
        "stop": stop,
        "modules": modules,
        "shown": bundle.get("shown", {}),
        "probe_key": probe_key,
    }
    return json.dumps(payload).encode()


def _stash_inputs(tests: list[dict]) -> dict[str, bytes]:
    """The checks' inputs files, read and removed until each check's turn."""
    stash = {}
    for test in tests:
        name = test.get("probe", {}).get("inputs")
        if isinstance(name, str) and os.path.basename(name) == name and os.path.isfile(name):
            with open(name, "rb") as handle:
                stash[name] = handle.read()
            os.remove(name)
    return stash


def _timeout(test: dict, timeout: int) -> int:
    """A check whose kind asks for a limit of its own (``Kind.cell_timeout``: a training check's
    budget and a margin, so that it is told it was over budget rather than stopped) gets it."""
    asked = test.get("probe", {}).get("timeout")
    return max(timeout, asked) if type(asked) is int else timeout


def _take_outputs(test: dict, kept: dict[str, bytes]) -> None:
    """A check's outputs, out of the student's code's reach as soon as the check is done."""
    name = test.get("probe", {}).get("outputs")
    if isinstance(name, str) and os.path.basename(name) == name and os.path.isfile(name):
        with open(name, "rb") as handle:
            kept[name] = handle.read()
        os.remove(name)


def _release(test: dict, stash: dict[str, bytes], go) -> None:
    """Write a check's inputs, then let the tester run it."""
    name = test.get("probe", {}).get("inputs")
    if name in stash:
        with open(name, "wb") as handle:
            handle.write(stash[name])
    with contextlib.suppress(OSError):
        go.write(b"go\n")


def _stop(proc) -> str:
    """Kill the tester and all it started; how it ended, in words."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    code = proc.wait()
    proc.close()
    if code is None or code == -signal.SIGKILL:
        return ""
    return f"exit code {code}" if code >= 0 else f"signal {signal.Signals(-code).name}"


def _lines(stream, deadline_for, line_limit: int):
    """(message or None on timeout or end, reason) from the tester, one at a time."""
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    buffer = b""
    while True:
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            try:
                yield json.loads(line), ""
            except ValueError:
                yield None, "garbled"
                return
        remaining = deadline_for() - time.monotonic()
        if remaining <= 0 or not selector.select(remaining):
            yield None, "timeout"
            return
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            yield None, "ended"
            return
        buffer += chunk
        if len(buffer) > line_limit:
            yield None, "garbled"
            return


def run_tests(server, spec: dict, bundle: dict, report=lambda stage: None) -> dict:
    tests = spec["tests"]
    results: list[dict | None] = [None] * len(tests)
    timeout = spec["test_timeout"]
    state = {"state": "finished", "import_error": ""}
    stash = _stash_inputs(tests)
    kept: dict[str, bytes] = {}  # the checks' outputs, taken when each check is done
    began_test = time.monotonic()  # when the current test started: timed here, not in the tester
    start, line_limit = 0, _line_limit(spec)
    probe_keys: list[str] = []  # the guard's key of each tester (``guard.seal``)
    while start < len(tests):
        began, stop = start, _group_end(tests, start)
        probe_keys.append(secrets.token_hex(32))
        payload = _payload(spec, bundle, start, stop, probe_keys[-1])
        proc, stream, go = _start_tester(server, payload)
        current = {"index": None, "deadline": time.monotonic() + IMPORT_TIMEOUT}
        reason = ""
        messages = _lines(stream, lambda: current["deadline"], line_limit)  # noqa: B023
        for message, reason in messages:
            if message is None:
                break
            event = message.get("event")
            if event == "importing":
                report("student")  # said first by the first tester, before any student code
                with contextlib.suppress(OSError):
                    go.write(b"go\n")
                continue
            if event in ("import_error", "preflight_error"):
                state.update(state=event, import_error=str(message.get("output", "")))
                reason = "import_error"
                break
            # The student's code shares the tester's process, pipe included: a test may only be
            # started in turn and reported while it runs, never one of another group.
            index, running = message.get("index"), current["index"]
            if running is None:
                valid = event == "start" and index == start < stop
            else:
                valid = event == "done" and index == running
            if not valid or not isinstance(index, int):
                reason = "garbled"
                break
            if event == "start":
                current.update(
                    index=index, deadline=time.monotonic() + _timeout(tests[index], timeout)
                )
                if "probe" in tests[index]:
                    _release(tests[index], stash, go)
                began_test = time.monotonic()
            elif event == "done":
                status = "passed" if message.get("status") == "passed" else "failed"
                results[index] = {
                    "status": status,
                    "output": str(message.get("output", "")),
                    "duration": round(time.monotonic() - began_test, 3),
                }
                _take_outputs(tests[index], kept)
                current.update(index=None, deadline=time.monotonic() + timeout)
                start = index + 1
        how = _stop(proc)
        stream.close()
        go.close()
        if reason == "import_error":
            break
        index = current["index"]
        if index is None:  # it ended or stalled between tests, or while importing
            if start == began or reason == "garbled":  # no test finished: the import failed
                what = {
                    "timeout": f"took longer than {IMPORT_TIMEOUT} s",
                    "garbled": "broke the test runner's channel",
                }.get(reason, f"ended the process ({how or 'killed'})")
                state.update(state="import_error", import_error=f"Importing your code {what}.")
                break
            continue
        if reason == "timeout":
            output = f"This test ran longer than {timeout} s and was stopped."
        else:
            output = f"This test ended the test process ({how or 'killed'}) before it finished."
        results[index] = {"status": "failed", "output": output}
        start = index + 1
    if state["state"] in ("import_error", "preflight_error"):
        for i in range(len(tests)):
            if results[i] is None:
                results[i] = {"status": "failed", "output": state["import_error"]}
    for name, content in kept.items():  # the tester is gone: the checks' outputs come back
        with open(name, "wb") as handle:
            handle.write(content)
    return {
        "state": state["state"],
        "tests": [r or {"status": "not_run", "output": ""} for r in results],
        "outputs": {name: hashlib.sha256(content).hexdigest() for name, content in kept.items()},
        "probe_keys": probe_keys,
    }


def main(spec_path: str, status_path: str, hidden_path: str) -> None:
    # Before the key: the testers are forked from this server, which never sees it.
    server = forkserver.ForkServer({"tester": tester})
    key, report = keyholder.take_key()
    with open(spec_path) as handle:
        spec = json.load(handle)
    bundle = {}
    if os.path.isfile(hidden_path):
        with open(hidden_path, "rb") as handle:
            bundle = json.loads(handle.read() or b"{}")
    for path in (spec_path, hidden_path):  # out of the folder before any of the student's code
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    try:
        status = run_tests(server, spec, bundle, report)
    finally:
        server.close()
    status_bytes = json.dumps(status, sort_keys=True).encode("utf-8")
    mac = hmac.new(key, b"\0" + status_bytes, hashlib.sha256).hexdigest()
    with open(status_path, "w") as handle:
        json.dump({"status": status, "mac": mac}, handle, sort_keys=True)


def cli(argv: list[str]) -> None:
    main(argv[0], argv[1], argv[2])


if __name__ == "__main__":
    cli(sys.argv[1:])
