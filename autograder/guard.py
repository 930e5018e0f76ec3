"""The guard around the reference checks, in the student's process: copied into the sandbox beside
``probes.py`` and sealed by the runner before any student code runs (``seal(key)``).

The student's kernel is the student's own process, so nothing here is out of reach of a
determined student. What the guard does is make every known way around it either fail or leave a
finding that the student cannot take back:

- Nothing of it is importable or bound to a name once sealed. It lives in the closure of an
  audit hook (``sys.addaudithook``: a hook cannot be removed), and a check runs when a check cell
  (or pyrunner) raises the event ``autograder.check`` with its spec. ``probes`` and ``guard``
  leave ``sys.modules``; importing them again, or reading their files, is a finding.
- Reaching into it takes one of the interpreter's audited operations (``gc.get_objects``, a frame
  through ``sys._getframe``, ``inspect`` or a traceback's ``tb_frame``, ``ctypes``, ``exec``, a
  profile or trace function, another audit hook). Those made by the student's code are reported at
  once on the sandbox's standard error (a line ``AUTOGRADER-FINDING: ...``), where the worker reads
  it and the student's code cannot unsay it; every check then scores 0 and staff see why.
- Each check's outputs carry an HMAC, under a key the runner gave to ``seal`` before the student's
  code ran, of the check's spec, its inputs and its outputs: outputs written by anything else, or
  by the real checker on a spec the student changed (``forbid = []``), fail at the worker.
- While a check runs, its forbidden APIs and their relatives are trapped three ways: the Python
  names replaced by traps (whose globals hold nothing of the guard), the aten operators refused by
  a dispatch mode, and every operator recorded by torch's profiler (below the Python dispatch
  modes, so a mode popped or dispatch disabled by the student's code still shows what ran).
  Before the check, a forbidden operator is run through the guard to see that it is refused, and
  torch's, safetensors' and the builtins' functions are compared with what they were at sealing
  (a monkeypatched ``Tensor.clone`` or ``save_file`` is a finding). A thread that runs while a
  check with forbidden APIs runs is a finding too (torch's modes and profiler are per thread).

Why one file of some 700 lines, past the ~400 a module should keep to: it is copied into the
sandbox beside ``probes.py`` alone (the ``autograder`` package is not there) and sealed as one
unit. Sealing takes ``guard`` and ``probes`` out of ``sys.modules`` and makes importing them again,
or reading their files (``OURS``), a finding; every further file would be one more the student's
code must be kept from, and named again in each runner (``execution``, ``pyrunner``,
``nbrunner``, ``notebooks.NOT_THE_STUDENTS``). Its parts, in order: what is watched (the
constants), ``_Guard`` (findings, threads, running a check), the snapshot of torch's functions,
the operator recorder and dispatch mode (``_Recorder``, ``_Around``, ``_ForbiddenOps``), the traps
for forbidden names, and ``seal``.
"""

import _thread
import builtins
import hashlib
import hmac
import itertools
import json
import os
import secrets
import sys
import threading
import types

import safetensors.torch
import torch
from torch.utils._python_dispatch import TorchDispatchMode

try:
    import probes  # in the sandbox: beside this file
except ImportError:  # pragma: no cover - in the worker, for reading
    from autograder import probes

EVENT = "autograder.check"
FINDING = "AUTOGRADER-FINDING: "
OURS = ("guard.py", "probes.py")
# Standard-library modules whose functions hand frames, or files, to their caller.
FRAME_HELPERS = ("/inspect.py", "/traceback.py", "/logging/__init__.py", "/pdb.py", "/bdb.py")
# The standard library's ways to start a thread that runs a function it is given: a thread started
# through them is the student's if the student's code asked for it.
MACHINERY = (
    "/threading.py",
    "/concurrent/futures/thread.py",
    "/concurrent/futures/_base.py",
    "/multiprocessing/pool.py",
    "/multiprocessing/dummy/__init__.py",
    "/asyncio/base_events.py",
    "/asyncio/threads.py",
    "/asyncio/events.py",
    "/sched.py",
)
FILE_HELPERS = (
    "/pathlib.py",
    "/codecs.py",
    "/shutil.py",
    "/linecache.py",
    "/tokenize.py",
    "/inspect.py",
    "/io.py",
    "/glob.py",
)
REFLECTED = frozenset(
    {"tb_frame", "gi_frame", "cr_frame", "ag_frame", "__code__", "__globals__", "__closure__"}
)
# Audited operations that are findings when the student's code makes them: frames (directly or
# through a helper above), ...
FRAMES = frozenset({"sys._getframe", "sys.setprofile", "sys.settrace", "object.__getattr__"})
# ... code made or changed at run time, other audit hooks, raw memory (ctypes.*) ...
DYNAMIC = frozenset(
    {
        "exec",
        "compile",
        "function.__new__",
        "code.__new__",
        "code.replace",
        "object.__setattr__",
        "object.__delattr__",
        "sys.addaudithook",
    }
)
# ... anywhere below the student's code ...
ANYWHERE = frozenset(
    {"sys._current_frames", "gc.get_objects", "gc.get_referrers", "gc.get_referents"}
)
# ... and, while a check with forbidden APIs runs, other processes (they have no guard).
PROCESSES = frozenset(
    {
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.exec",
        "os.spawn",
        "os.system",
        "subprocess.Popen",
    }
)
VOLATILE = frozenset(
    {
        "_",
        "__",
        "___",
        "input",
        "raw_input",
        "getpass",
        "__IPYTHON__",
        "display",
        "get_ipython",
        "_ih",
        "_oh",
        "_dh",
        "__slotnames__",
    }
)  # pickle's cache on a class (torch.save), set by copyreg
# What torch itself changes in what is snapshotted: torch.compile tags nn.Module's constructor (its
# replacement is made in this file of torch's, under this name), and marks the class so.
TORCH_PATCHES = {
    "__init__": "_dynamo/mutation_guard.py",
    "__setstate__": "_dynamo/mutation_guard.py",
}
TORCH_MARKS = frozenset({"___needs_generation_tag_patch"})
# What the guard calls while student code may already have run, taken before any did: a student's
# ``os.write = ...`` or ``sys._getframe = ...`` must not silence or blind it.
_write, _dumps, _loads, _getframe = os.write, json.dumps, json.loads, sys._getframe
_token, _FunctionType, _ident = secrets.token_hex, types.FunctionType, _thread.get_ident


def _snapshotted():
    """(owner, names or None for all): what the checks rely on staying as it was at sealing."""
    from torch.utils import _python_dispatch

    return (
        (torch, None),
        (torch.nn.functional, None),
        (torch.Tensor, None),
        (torch._C.TensorBase, None),
        (torch.nn.Module, None),
        (torch.autograd, None),
        (torch.optim.Optimizer, None),
        (safetensors.torch, None),
        (builtins, None),
        (TorchDispatchMode, None),
        (_python_dispatch, ("_push_mode", "_pop_mode")),
        (torch._C, ("_push_on_torch_dispatch_stack", "_pop_torch_dispatch_stack")),
        (torch._C._autograd, ("_enable_profiler_legacy", "_disable_profiler_legacy")),
        (_thread, ("start_new_thread", "start_new")),
        (threading, ("_start_new_thread",)),
        (sys, ("audit", "addaudithook")),
        (json, None),
        (hmac, None),
        (hashlib, None),
    )


def _mine(filename: str) -> bool:
    return filename.endswith(OURS)


def _students(filename: str, cwd: str) -> bool:
    """Code the student wrote: a notebook cell (ipykernel names them so) or a file of theirs in
    the scratch directory (not the runners' nor the guard's)."""
    if "/ipykernel_" in filename or filename.startswith("<ipython-input-"):
        return True
    folder, _, name = filename.rpartition("/")
    return (
        folder == cwd and name.endswith(".py") and name not in (*OURS, "pyrunner.py", "nbrunner.py")
    )


class _Guard:
    """The state of a sealed guard: its key, where findings go, the check that is running."""

    def __init__(self, key: bytes, channel: int) -> None:
        self.key, self.channel, self.cwd = key, channel, os.getcwd()
        self.busy: set[int] = set()  # the threads whose audit events are the guard's own, now
        self.running: dict | None = None  # the check that runs now: its spec and findings
        self.threads: dict[str, str] = {}  # the student's threads still running: token -> where
        self.load, self.save = safetensors.torch.load, safetensors.torch.save
        self.start_thread = _thread.start_new_thread
        self.snapshot: dict = {}

    # Findings

    def report(self, what: str) -> None:
        """Out of the process at once (the worker reads the sandbox's standard error), and into
        the check that is running, which then fails."""
        if self.running is not None:
            self.running["findings"].append(what)
        try:
            _write(self.channel, (FINDING + _dumps(what) + "\n").encode())
        except OSError:  # the channel closed by the student's code: refuse what was reported
            raise PermissionError(f"The grader's guard refuses this: {what}") from None

    def hook(self, event: str, args) -> None:
        if event == EVENT:
            self.check(args[0])
        elif event == "autograder.forbidden":
            self.forbidden(args[0])
        elif event == "autograder.thread":
            self.started(*args)
        elif event == "autograder.thread_end":
            self.threads.pop(args[0], None)
        elif _ident() in self.busy:
            return
        elif event in FRAMES or event in DYNAMIC or event in ANYWHERE or event in PROCESSES:
            self.watch(event, args)
        elif event.startswith("ctypes."):
            self.watch("ctypes", args)
        elif event == "import" and args[0] in ("probes", "guard"):
            self.report(f"imports {args[0]}, the grader's checking code")
        elif event == "open" and isinstance(args[0], str) and args[0].endswith(OURS):
            self.watch(event, args)

    def watch(self, event: str, args) -> None:
        self.busy.add(_ident())
        try:
            where = self.by_student(event, args, _getframe(2))  # past here and hook()
            if where:
                self.report(f"{_describe(event, args)} ({where})")
        finally:
            self.busy.discard(_ident())

    def by_student(self, event: str, args, frame) -> str:
        """Where in the student's code ``event`` comes from, or "" if it does not."""
        if event.startswith("object.") and args[1] not in REFLECTED:
            return ""
        if frame is None or _mine(frame.f_code.co_filename):
            return ""
        if event in PROCESSES:
            running = self.running is not None and self.running["spec"].get("forbid")
            return "while a check runs" if running else ""
        if event in ANYWHERE:
            while frame is not None and not _mine(frame.f_code.co_filename):
                if _students(frame.f_code.co_filename, self.cwd):
                    return _place(frame)
                frame = frame.f_back
            return ""
        if event == "open":
            while frame.f_back is not None and frame.f_code.co_filename.endswith(FILE_HELPERS):
                frame = frame.f_back
        if event in FRAMES and frame.f_code.co_filename.endswith(FRAME_HELPERS):
            frame = frame.f_back or frame
        return _place(frame) if _students(frame.f_code.co_filename, self.cwd) else ""

    # Threads: torch's dispatch modes and profiler are per thread

    def started(self, function, args, kwargs, box: list) -> None:
        """A thread starts (``_thread.start_new_thread``, through the stand-in ``seal`` puts in
        its place). One that the student's code starts (the first caller past the standard
        library's thread machinery is the student's) is told apart, may not run while a check with
        forbidden APIs runs, and is known to be running until it ends: it runs inside
        ``_RUNNER``, which says so with a token of its own (thread idents are reused, and
        ``threading``'s own list is the student's to change)."""
        self.busy.add(_ident())
        try:
            caller = _getframe(3)
        finally:
            self.busy.discard(_ident())
        while caller is not None and caller.f_code.co_filename.endswith(MACHINERY):
            caller = caller.f_back
        if caller is None or not _students(caller.f_code.co_filename, self.cwd):
            box.append(self.start_thread(function, args, kwargs))  # a library's own thread
            return
        where = _place(caller)
        if self.running is not None and self.running["spec"].get("forbid"):
            self.report(f"starts a thread while a check runs ({where})")
        token = _token(16)
        self.threads[token] = where
        box.append(self.start_thread(_RUNNER, (function, args, kwargs, token)))

    def threads_alive(self) -> list[str]:
        return list(self.threads.values())

    # A check

    def check(self, spec_json: str) -> None:
        if self.running is not None:
            raise probes.CheckFailed("A check cannot start inside another check.")
        spec = _loads(spec_json)
        self.running = {"spec": spec, "findings": [], "called": []}
        try:
            self.run(spec)
        finally:
            self.running = None

    def run(self, spec: dict) -> None:
        running = self.running
        if spec.get("forbid"):
            for where in self.threads_alive():
                self.report(
                    f"a thread it started ({where}) still runs while a check runs (a "
                    "check cannot see what other threads do: end or join your threads, "
                    "and do not keep a DataLoader's workers alive, before the checks)"
                )
        self.compare_snapshot()
        with open(spec["inputs"], "rb") as handle:
            inputs_bytes = handle.read()
        recorder = _Recorder() if spec.get("forbid_ops") else None
        try:
            outputs = probes.run(
                spec, self.load(inputs_bytes), around=_Around(self, spec, recorder)
            )
        except probes.ProbeError as exc:
            outputs = exc
        finally:
            self.compare_snapshot()
            if recorder is not None and not running["called"]:
                for label in recorder.forbidden(spec.get("forbid_ops", {})):
                    self.report(f"runs {label} past the guard of forbidden operators")
        if running["findings"]:
            raise probes.CheckFailed(
                "Your code reaches into the grader's checking machinery or the interpreter "
                f"({'; '.join(running['findings'])}); the check scores 0."
            )
        if running["called"]:
            raise probes.CheckFailed(f"It calls {running['called'][0]}, which this check forbids.")
        if isinstance(outputs, Exception):
            raise probes.CheckFailed(str(outputs)) from None
        attested = probes.attestation(self.key, spec, inputs_bytes, outputs)
        with open(spec["outputs"], "wb") as handle:
            handle.write(self.save(outputs, metadata={"attestation": attested}))

    def forbidden(self, label: str) -> None:
        if self.running is not None:
            self.running["called"].append(label)
        raise probes.ForbiddenAPI(f"{label} is not allowed in this exercise")

    def compare_snapshot(self) -> None:
        for name in _changed(self.snapshot):
            self.report(f"changes {name} at run time")


def _snapshot() -> dict:
    """What each owner holds now; for a class, also the names it has (a name added later
    shadows what it inherits: ``torch.Tensor.clone = ...`` adds one)."""
    taken = {}
    for owner, names in _snapshotted():
        table = vars(owner)
        for name in names or list(table):
            if name not in VOLATILE and name in table:
                taken[owner, name] = table[name]
        if isinstance(owner, type):
            taken[owner, None] = frozenset(table)
    return taken


def _changed(snapshot: dict) -> list[str]:
    changed = []
    for (owner, name), value in snapshot.items():
        owner_name = getattr(owner, "__name__", owner)
        if name is None:
            added = set(vars(owner)) - value - VOLATILE
            changed += [f"{owner_name}.{a}" for a in sorted(added) if not _torch_mark(owner, a)]
            continue
        now = vars(owner).get(name, _changed)
        if now is value:
            continue
        if _torch_wraps(now, value) or _torch_patch(name, now):  # torch changes its own
            snapshot[owner, name] = now
            continue
        changed.append(f"{owner_name}.{name}")
    return changed


TORCH_FOLDER = os.path.dirname(torch.__file__) + os.sep


def _torch_wraps(now, value) -> bool:
    code = getattr(now, "__code__", None)
    return (
        getattr(now, "__wrapped__", None) is value
        and code is not None
        and code.co_filename.startswith(TORCH_FOLDER)
    )


def _torch_patch(name: str, now) -> bool:
    """torch.compile's replacement of ``nn.Module.__init__``/``__setstate__``: made in torch's
    file for it, by the function that does it (code elsewhere cannot pass for it without an
    audited operation)."""
    code = getattr(now, "__code__", None)
    where = TORCH_PATCHES.get(name)
    return (
        where is not None
        and code is not None
        and code.co_filename == TORCH_FOLDER + where
        and now.__qualname__ == f"install_generation_tagging_init.<locals>.patched_{name[2:-2]}"
    )


def _torch_mark(owner, name: str) -> bool:
    """A flag torch.compile adds to a class (a bool, nothing that runs)."""
    return name in TORCH_MARKS and isinstance(vars(owner)[name], bool)


def _place(frame) -> str:
    filename = frame.f_code.co_filename
    if "/ipykernel_" in filename or filename.startswith("<ipython-input-"):
        return f"a notebook cell, line {frame.f_lineno}"
    return f"{filename.rpartition('/')[2]}, line {frame.f_lineno}"


def _describe(event: str, args) -> str:
    if event.startswith("object."):
        return f"reads {args[1]}" if event == "object.__getattr__" else f"sets {args[1]}"
    if event == "open":
        return f"opens {args[0].rpartition('/')[2]}, the grader's checking code"
    if event in PROCESSES:
        return "starts another process"
    return {
        "exec": "runs code made at run time (exec/eval)",
        "compile": "compiles code",
        "ctypes": "uses ctypes",
    }.get(event, f"calls {event}")


class _Recorder:
    """torch's profiler, which records operators below the Python dispatch modes: what ran while
    the student's code ran, whatever it did to the modes."""

    def __init__(self) -> None:
        from torch._C._autograd import (
            _disable_profiler_legacy,
            _enable_profiler_legacy,
            _ProfilerDisableOptions,
        )
        from torch._C._profiler import ProfilerConfig, ProfilerState, _ExperimentalConfig

        config = ProfilerConfig(
            ProfilerState.CPU, False, False, False, False, False, _ExperimentalConfig()
        )
        self._enable = lambda: _enable_profiler_legacy(config)
        self._disable = lambda: _disable_profiler_legacy(_ProfilerDisableOptions(True, True))
        self.names: set[str] = set()
        self.stopped = False

    def __enter__(self):
        self._enable()
        return self

    def __exit__(self, *exc) -> None:
        try:
            events = self._disable()
        except RuntimeError:  # the student's code stopped it
            self.stopped = True
            return
        self.names = {e.name() for thread in events for e in thread}

    def forbidden(self, ops: dict) -> list[str]:
        if self.stopped:
            return ["(its operators: the recorder was stopped)"]
        seen = []
        for name in sorted(self.names):
            op = name.removeprefix("aten::")
            if name.startswith("aten::") and (op in ops or op.removesuffix("_") in ops):
                seen.append(ops.get(op) or ops[op.removesuffix("_")])
        return seen


class _Around:
    """What ``probes.run`` puts around the student's code: traps for the forbidden names, the
    dispatch mode for their operators and the recorder, taken down after."""

    def __init__(self, guard: _Guard, spec: dict, recorder) -> None:
        self.guard, self.spec, self.recorder = guard, spec, recorder
        self.undo: list = []
        self.mode = _ForbiddenOps(spec.get("forbid_ops", {}), guard.running["called"])

    def __enter__(self):
        if self.mode.ops:
            self.canary()
        forbid = self.spec.get("forbid", {})
        for name in forbid:  # all before any is trapped: AdamW runs Adam's functions
            found = _resolve(name)
            if found is not None and not _torchs(found[2]):
                self.guard.report(f"changes {name} at run time")
        for name, label in forbid.items():
            self.undo.append(_trap(name, label))
        if self.mode.ops:
            self.mode.__enter__()
        if self.recorder is not None:
            self.recorder.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.recorder is not None:
            self.recorder.__exit__()
        if self.mode.ops:
            self.mode.__exit__(None, None, None)
        for undo in reversed(self.undo):
            undo()

    def canary(self) -> None:
        """The mode must see what runs under it; else the guard is off."""
        self.mode.passed = False
        with self.mode:
            torch.zeros(2).add(1)
        if not self.mode.passed:
            self.guard.report("the guard of forbidden operators does not work")


class _ForbiddenOps(TorchDispatchMode):
    """Refuses the aten operators of the forbidden functions while the check runs."""

    def __init__(self, ops: dict, called: list) -> None:
        super().__init__()
        self.called, self.passed = called, False
        self.ops = {op: label for op, label in ops.items() if hasattr(torch.ops.aten, op)}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.passed = True
        name = func.overloadpacket.__name__
        label = self.ops.get(name) or self.ops.get(name.removesuffix("_"))
        if label:
            self.called.append(label)
            raise probes.ForbiddenAPI(f"{label} is not allowed in this exercise")
        return func(*args, **(kwargs or {}))


def _resolve(dotted: str):
    """(owner, attribute, what it holds) of a dotted name; None if there is no such thing."""
    owner_name, _, attr = dotted.rpartition(".")
    try:
        owner = probes.import_owner(owner_name)
        return owner, attr, getattr(owner, attr)
    except (ImportError, AttributeError):
        return None


def _trap(dotted: str, label: str):
    """Replace ``dotted`` (e.g. torch.nn.functional.elu) by a trap, and trap the code of the
    Python functions it runs (``_code_traps``), so that a reference to it taken before the check
    (``E = F.elu`` under any name) is trapped too; return how to undo both."""
    found = _resolve(dotted)
    if found is None:
        return lambda: None
    owner, attr, original = found
    trap = _isolated(TRAP, "trap", _label=label)
    own = attr in vars(owner)  # else inherited (Tensor.relu is TensorBase's): leave no copy
    setattr(owner, attr, trap)
    undo_code = _code_traps(original, trap)

    def undo() -> None:
        undo_code()
        setattr(owner, attr, original) if own else delattr(owner, attr)

    return undo


_NUMBERS = itertools.count()
TRAP = "def trap(*args, **kwargs):\n    _audit('autograder.forbidden', _label)\n"
# Where a forbidden class's functions stop being its own: what every module or optimizer runs.
GENERIC = (
    "torch.nn.modules.module",
    "torch.optim.optimizer",
    "torch.optim.lr_scheduler.LRScheduler",
)


def _torchs(obj) -> bool:
    """Is ``obj`` torch's own (not a stand-in the student's code put under torch's name)? A
    Python function's code, and a class's own functions' code, are in torch's folder: code
    elsewhere cannot be made to look so without an audited operation (compile, exec,
    code.replace)."""
    functions = _functions(obj)
    return all(f.__code__.co_filename.startswith(TORCH_FOLDER) for f in functions)


def _functions(obj) -> list:
    """The Python functions that calling ``obj`` runs of its own: itself and what it wraps (or
    holds in its closure), or a class's own methods and those of its torch bases short of the
    generic ``nn.Module``, ``Optimizer`` and ``LRScheduler``."""
    found, stack, seen = [], [obj], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, staticmethod | classmethod):
            stack.append(item.__func__)
        elif isinstance(item, type):
            for base in item.__mro__:
                name = f"{base.__module__}.{base.__qualname__}"
                if base is object or name.startswith(GENERIC) or not name.startswith("torch."):
                    break
                stack += [
                    v
                    for k, v in vars(base).items()
                    if not k.startswith("__") or k in ("__init__", "__call__", "__new__")
                ]
        elif isinstance(item, _FunctionType):
            found.append(item)
            stack += [c.cell_contents for c in item.__closure__ or () if _filled(c)]
            wrapped = vars(item).get("__wrapped__")
            if wrapped is not None:
                stack.append(wrapped)
    return found


def _filled(cell) -> bool:
    try:
        return cell.cell_contents is not _filled  # reading it raises if the cell is empty
    except ValueError:
        return False


def _code_traps(original, trap):
    """Give each Python function that ``original`` runs a trap's code for the check (its closure
    kept, its globals given the trap under a name of the guard's); return how to put back."""
    undo = []
    for function in _functions(original):
        code = function.__code__
        if not code.co_filename.startswith(TORCH_FOLDER):
            continue
        name = f"__autograder_trap_{next(_NUMBERS)}__"
        free = code.co_freevars
        source = (
            "def outer():\n"
            + "".join(f"    {n} = None\n" for n in free)
            + "    def inner(*args, **kwargs):\n"
            + "".join(f"        {n}\n" for n in free)
            + f"        return {name}()\n    return inner\n"
        )
        namespace: dict = {}
        exec(source, namespace)  # our own source
        replacement = namespace["outer"]().__code__
        if replacement.co_freevars != free:
            continue
        function.__globals__[name] = trap
        function.__code__ = replacement
        undo.append((function, code, name))

    def put_back() -> None:
        for function, code, name in undo:
            function.__code__ = code
            function.__globals__.pop(name, None)

    return put_back


STARTER = """def start_new_thread(function, args, kwargs=None):
    box = []
    _audit("autograder.thread", function, args, kwargs or {}, box)
    return box[0]
"""
RUNNER = """def run(function, args, kwargs, token):
    try:
        return function(*args, **kwargs)
    finally:
        _audit("autograder.thread_end", token)
"""


def _isolated(source: str, name: str, **names):
    """A function whose globals hold only ``sys.audit`` and ``names``: handed to the student's
    code (a trap, the thread starter), it leads nowhere into the guard."""
    namespace = {"_audit": sys.audit, "__builtins__": {}, **names}
    exec(source, namespace)  # our own source
    return namespace[name]


def seal(key: str) -> None:
    """Put the guard in place: before any student code, once per process."""
    stderr = getattr(sys.stderr, "_original_stdstream_copy", None)  # ipykernel captures fd 2
    guard = _Guard(key.encode(), os.dup(stderr if isinstance(stderr, int) else 2))
    _Recorder()  # its imports, now
    starter = _isolated(STARTER, "start_new_thread")
    global _RUNNER
    _RUNNER = _isolated(RUNNER, "run")
    _thread.start_new_thread = _thread.start_new = threading._start_new_thread = starter
    guard.snapshot = _snapshot()
    sys.addaudithook(guard.hook)
    for name in ("probes", "guard"):
        sys.modules.pop(name, None)
