"""Runs one notebook with nbclient and writes it back executed. This file is copied into the
sandbox and run there, next to the student's code: the worker reads what it writes only as JSON
data (the executed notebook and ``status.json``), never as code or pickles.

    python -I -B nbrunner.py IN.ipynb OUT.ipynb STATUS.json TIMEOUT OUTPUT_BYTES STUDENT_CELLS < KEY

TIMEOUT: seconds per cell; OUTPUT_BYTES: kept of each cell's output.

STUDENT_CELLS: the indexes (comma-separated) of the cells that hold the student's code.

It imports nothing from the project but its siblings copied beside it: ``keyholder`` (the key and
the report channel, as pyrunner holds them), ``forkserver`` and ``nbkernel``: the kernel is a fork
of a server this process starts before it reads its key (so the kernel holds nothing of this
process's, and starts with what it had imported: in a warm sandbox, torch). A cell that errors
does not stop the run (nbgrader scores it 0); a cell that runs past its timeout is interrupted
and marked; a kernel that dies (``os._exit``, a crash) ends the run, and the cells after it are
reported as never reached.

The student's code shares this scratch directory, so it could rewrite OUT.ipynb after we wrote
it. The worker therefore sends a one-time key on standard input, read before the kernel starts,
and the status carries an HMAC of both files under it: a file changed afterwards fails the check.
Errors are also taken from the kernel's execute replies, not only from the outputs, so hiding a
traceback does not turn a failing test into a passing one.

How far it got goes, signed with the same key, on the report channel (``AUTOGRADER_REPORT_FD``),
a pipe only this process holds (the kernel does not inherit it, and this process is not dumpable,
so the student's code cannot open it through /proc): ``started`` once it has the key, ``kernel``
once the kernel answers, ``student`` just before the first student cell runs, once the kernel has
loaded torch (``_preflight``). The worker takes a run that never got to ``student`` (and did not
finish) for an infrastructure fault, not a score: nothing the student wrote had run yet.

It is run isolated (``python -I``) from a read-only folder beside the scratch directory, so that
no file of that directory shadows a module it imports before it has its key.

A reference check's cell (metadata ``autograder``) names its inputs file: the runner reads those
files and deletes them before the kernel starts, and writes each back just before its check runs,
so the student's cells cannot work on a check's inputs (a training set) ahead of its clock, and
times each check cell here, outside the kernel (``durations`` in the signed status), where the
student's code cannot change the clock. The checks' guard (guard.py, with probes.py) is sealed
first of all, in a silent execution that leaves nothing in the kernel's history, under a key of
its own that the signed status carries (``probe_keys``): what it takes from torch is torch as it
was before any student cell ran, and the worker knows the outputs it vouches for. A check cell
may ask for its own time limit (``timeout``).
"""

import hashlib
import hmac
import importlib.util
import json
import os
import secrets
import sys
import time

# jsonschema (under nbformat) imports rfc3987_syntax if it can, which builds a grammar for a whole
# second on every start; URI formats are never checked here, so skip it.
sys.modules.setdefault("rfc3987_syntax", None)

# keyholder.py is copied beside this file, in the same read-only folder (``-I`` leaves it off the
# path).
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

import forkserver  # noqa: E402
import keyholder  # noqa: E402
import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: E402
from nbkernel import kernel, start_kernel  # noqa: E402

# Evaluated in the kernel before each test cell, as a user expression (which does not pass through
# IPython's input transformers): it undoes the usual ways a notebook changes how later cells run
# (input and AST transformers, replaced run_cell and friends, cell hooks, custom exception
# handlers, a trace function) and answers with a nonce. A test cell whose guard did not answer is
# marked tampered and scores 0. It raises the bar; it cannot make the kernel trustworthy.
GUARD = """(lambda ip, sys: (
    [ip.__dict__.pop(name, None) for name in ("run_cell", "run_cell_async", "run_ast_nodes",
        "run_code", "transform_cell", "transform_ast", "showtraceback", "_showtraceback",
        "user_expressions", "ev", "ex")],
    setattr(ip, "input_transformer_manager",
            __import__("IPython.core.inputtransformer2", fromlist=["x"]).TransformerManager()),
    ip.ast_transformers.clear(),
    [ip.events.callbacks[event].clear() for event in ("pre_execute", "pre_run_cell",
        "post_run_cell") if event in ip.events.callbacks],
    ip.set_custom_exc((), None),
    sys.settrace(None),
    sys.setprofile(None),
    NONCE)[-1])(get_ipython(), __import__("sys"))"""


class PreflightFailed(RuntimeError):
    """The kernel could not load what every run counts on before any cell ran (torch)."""


async def _preflight(client) -> None:
    """Load torch in the kernel before any cell runs, where this interpreter has it: the
    student's memory limit counts on top of Python with torch loaded, so a kernel that cannot
    load it within the run's limits is the machine's fault (``PreflightFailed``), not a score.
    (Imported by a user expression: no name of the notebook's is bound.)"""
    if importlib.util.find_spec("torch") is None:
        return
    msg_id = client.kc.execute(
        "", silent=True, store_history=False, user_expressions={"torch": "__import__('torch')"}
    )
    reply = await client.async_wait_for_reply(msg_id)
    answer = (reply or {}).get("content", {}).get("user_expressions", {}).get("torch", {})
    if answer.get("status") != "ok":
        why = f"{answer.get('ename', 'no answer')}: {answer.get('evalue', '')}"
        raise PreflightFailed(f"the kernel could not import torch within the run's limits ({why})")


def _truncate(notebook, limit: int) -> None:
    """Keep at most ``limit`` bytes of output per cell, so a flood of prints costs the student
    that cell's output, not the whole grading (the file size limit would stop our write)."""
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        kept, used = [], 0
        for output in cell.get("outputs", []):
            size = len(json.dumps(output))
            if used + size > limit:
                note = f"[output cut: more than {limit // 1024} KB]"
                kept.append(nbformat.v4.new_output("stream", name="stdout", text=note))
                break
            kept.append(output)
            used += size
        cell["outputs"] = kept


def _check_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("autograder", {})
    return meta if isinstance(meta, dict) else {}


def _stash_inputs(notebook) -> dict[str, bytes]:
    """The check cells' inputs files, read and removed from the folder until their cell runs."""
    stash = {}
    for cell in notebook.cells:
        name = _check_meta(cell).get("inputs")
        if isinstance(name, str) and os.path.basename(name) == name and os.path.isfile(name):
            with open(name, "rb") as handle:
                stash[name] = handle.read()
            os.remove(name)
    return stash


def main(
    source: str,
    target: str,
    status_path: str,
    cell_timeout: int,
    output_bytes: int,
    student_cells: set[int],
) -> None:
    # Before the key: the kernel is forked from this server, which never sees it.
    began = time.monotonic()
    server = forkserver.ForkServer({"kernel": kernel})
    # The kernel starts now, while this process reads its key and the notebook: it runs nothing
    # but its own start until this process sends it a cell.
    try:
        manager, kernel_error = start_kernel(server), None
    except Exception as exc:  # reported once there is a key to sign the report with
        manager, kernel_error = None, exc
    key, signed = keyholder.take_key()
    phases: dict[str, float] = {}  # seconds since the start when each stage was reached

    def report(stage: str) -> None:
        phases.setdefault(stage, round(time.monotonic() - began, 3))
        signed(stage)

    notebook = nbformat.read(source, as_version=4)
    # It holds the hidden tests: the student's cells must not read them before they run.
    os.remove(source)
    stash = _stash_inputs(notebook)
    if stash:  # first of all, before any student cell: see the module's docstring
        notebook.cells.insert(0, nbformat.v4.new_code_cell("None"))
        notebook.cells[0].metadata["autograder"] = {"setup": True}
    # "finished" only once the whole notebook ran: a status written on the way out of an error
    # must not read as a complete run.
    status = {
        "state": "incomplete",
        "message": "",
        "timeouts": [],
        "errors": [],
        "tampered": [],
        "durations": {},
        "outputs": {},
        "probe_keys": [],
    }
    probe_key = secrets.token_hex(32)
    kept: dict[str, bytes] = {}
    started: dict[int, float] = {}
    nonce = hashlib.sha256(key + b"guard").hexdigest()[:16]
    guard = GUARD.replace("NONCE", repr(nonce))
    client = None
    preflown: list[int] = []

    def timeout_for(cell) -> int:
        asked = _check_meta(cell).get("timeout")
        return max(cell_timeout, asked) if isinstance(asked, int) else cell_timeout

    async def before_cell(cell, cell_index):
        if not preflown:
            preflown.append(cell_index)
            await _preflight(client)
        if setup and cell_index == 0:  # the guard, silently: the key stays out of history
            seal = f"__import__('guard').seal({probe_key!r})"
            msg_id = client.kc.execute(seal, silent=True, store_history=False)
            reply = (await client.async_wait_for_reply(msg_id)) or {}
            if reply.get("content", {}).get("status") == "ok":
                status["probe_keys"].append(probe_key)
            else:
                status["guard_error"] = str(reply.get("content", {}).get("evalue", "no reply"))
            return
        if cell_index - len(setup) in student_cells:
            report("student")
        # Not ``notebooks.nbgrader_meta``: nothing of the project's is imported here. The notebook
        # was restored (``notebooks.restore``), so any nbgrader metadata in it is the instructor's.
        meta = cell.get("metadata", {}).get("nbgrader", {})
        is_check = bool(_check_meta(cell).get("check"))
        if not (meta.get("grade") and not meta.get("solution")) and not is_check:
            return
        msg_id = client.kc.execute(
            "", silent=True, store_history=False, user_expressions={"guard": guard}
        )
        reply = await client.async_wait_for_reply(msg_id)
        answer = (reply or {}).get("content", {}).get("user_expressions", {}).get("guard", {})
        if answer.get("data", {}).get("text/plain") != repr(nonce):
            status["tampered"].append(cell_index - len(setup))
        name = _check_meta(cell).get("inputs")
        if name in stash:
            with open(name, "wb") as handle:
                handle.write(stash[name])
        if is_check:
            started[cell_index] = time.monotonic()
            phases.setdefault("checks", round(started[cell_index] - began, 3))

    def after_cell(cell, cell_index, execute_reply):
        if cell_index in started:
            took = time.monotonic() - started.pop(cell_index)
            status["durations"][str(cell_index - len(setup))] = round(took, 3)
        name = _check_meta(cell).get("outputs")
        if isinstance(name, str) and os.path.basename(name) == name and os.path.isfile(name):
            # out of the kernel's reach until the end; its hash signed, so a copy the student's
            # code writes later is told from it
            with open(name, "rb") as handle:
                kept[name] = handle.read()
            os.remove(name)
            status["outputs"][name] = hashlib.sha256(kept[name]).hexdigest()

    def on_error(cell, cell_index, execute_reply):
        status["errors"].append(cell_index - len(setup))
        if execute_reply["content"].get("ename") == "CellTimeout":
            status["timeouts"].append(cell_index - len(setup))
            cell.outputs.append(
                nbformat.v4.new_output(
                    "error",
                    ename="CellTimeout",
                    evalue=f"this cell ran longer than {timeout_for(cell)} s and was stopped",
                    traceback=[],
                )
            )

    client = NotebookClient(
        notebook,
        timeout=cell_timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeout", "evalue": "cell timed out", "traceback": []},
        shutdown_kernel="immediate",
        on_cell_error=on_error,
        on_cell_execute=before_cell,
        on_notebook_start=lambda notebook: report("kernel"),
        on_cell_executed=after_cell,
        timeout_func=timeout_for,
    )
    # The cell inserted above, and only it: a student's cell can carry any metadata, and one
    # claiming to be setup would shift every index reported (and which cell is the student's).
    setup = notebook.cells[:1] if stash else []
    try:
        if kernel_error is not None:
            raise kernel_error
        client.km = manager
        client.execute()
        status["state"] = "finished"
    except DeadKernelError as exc:
        status.update(state="kernel_died", message=str(exc))
    except CellTimeoutError as exc:
        status.update(state="timeout", message=str(exc).splitlines()[0])
    except Exception as exc:  # the kernel could not start, or nbclient failed: for staff
        status.update(state="runner_error", message=repr(exc)[-2000:])
    finally:
        if manager is not None:
            manager.stop()
        server.close()
        for name, content in kept.items():  # the kernel is gone: the checks' outputs come back
            with open(name, "wb") as handle:
                handle.write(content)
        del notebook.cells[: len(setup)]  # the student's notebook, as it ran, indexes as sent
        executed = [i for i, c in enumerate(notebook.cells) if c.get("execution_count")]
        status["last_executed"] = max(executed, default=None)
        phases["end"] = round(time.monotonic() - began, 3)
        # CPU seconds of this process and of the kernel (all the fork server started), for the
        # benchmark's breakdown: where a run's time goes.
        used = os.times()
        phases["runner_cpu"] = round(used.user + used.system, 3)
        phases["kernel_cpu"] = round(used.children_user + used.children_system, 3)
        status["phases"] = phases
        _truncate(notebook, output_bytes)
        notebook_bytes = nbformat.writes(notebook).encode("utf-8")
        status_bytes = json.dumps(status, sort_keys=True).encode("utf-8")
        mac = hmac.new(key, notebook_bytes + b"\0" + status_bytes, hashlib.sha256).hexdigest()
        with open(target, "wb") as handle:
            handle.write(notebook_bytes)
        with open(status_path, "w") as handle:
            json.dump({"status": status, "mac": mac}, handle, sort_keys=True)


def cli(argv: list[str]) -> None:
    cells = {int(index) for index in argv[5].split(",") if index}
    main(argv[0], argv[1], argv[2], int(argv[3]), int(argv[4]), cells)


if __name__ == "__main__":
    cli(sys.argv[1:])
