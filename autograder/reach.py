"""Reaching for the checking machinery, found in the student's source before anything runs.

The reference checks run in the student's own process (``guard.py`` says what that means), so
code that goes after the machinery, the interpreter's internals or torch's dispatch internals is
not trusted with a score: each such place is a finding, every check scores 0, and staff see the
list. Found here, by name, after resolving imports and aliases as ``checks.tampering`` does:

- the import system and the interpreter's reflection: ``__import__``, ``importlib``,
  ``builtins``/``__builtins__``, ``sys.modules``, ``vars(x)``, ``globals()``, ``exec``/``eval``/
  ``compile``, ``gc``'s object walks, frames (``sys._getframe``, ``inspect``'s frame functions,
  ``tb_frame``, ``f_back``, ``f_globals``...), a function's ``__globals__``/``__closure__``/
  ``__code__``, audit and trace hooks, ``ctypes``;
- code that runs where a check cannot see it: threads, other processes;
- torch's internals: a private name under ``torch`` (``torch._C``, ``torch.utils._python_dispatch``,
  settings under ``torch.backends`` and the compilers' configuration excepted), ``torch.overrides``,
  ``torch.library``, the profilers, a ``__torch_function__``/``__torch_dispatch__`` of one's own,
  a subclass of ``torch.Tensor``;
- the checks' own modules (``probes``, ``guard``), and ``getattr``/``setattr``/``delattr`` on any of
  the above with a name that is not a constant (a constant one, even ``"e" + "lu"``, is read as
  the name it spells).

What hides from this (code built from strings at run time needs ``exec`` or a computed name, both
found here) meets the guard at run time.
"""

from __future__ import annotations

import ast

from autograder.checks.names import (
    aliases_of,
    bound_to_paths,
    dotted_name,
    module_level_names,
    parsed,
)

MACHINERY = ("probes", "guard")
# Threads are not here: one that still runs when a check starts is the guard's finding at run
# time (``threading.Lock``, a thread pool used and shut down, a DataLoader are ordinary code).
MODULES = {  # a module whose every use is a reach, and why
    "importlib": "the import system",
    "builtins": "the builtins",
    "ctypes": "raw memory",
    "_thread": "threads",
    "multiprocessing": "other processes",
    "concurrent.futures.process": "other processes",
    "subprocess": "other processes",
    # a handler is handed the frame it interrupts, which may be the checker's
    "signal": "signal handlers",
    "torch.overrides": "torch's function overrides",
    "torch.library": "torch's operator registry",
    "torch.profiler": "torch's profiler",
    "torch.autograd.profiler": "torch's profiler",
    "sys.modules": "the loaded modules",
    **dict.fromkeys(MACHINERY, "the grader's checking code"),
}
NAMES = {  # dotted names that are reaches wherever they are used
    "sys._getframe",
    "sys._current_frames",
    "sys.settrace",
    "sys.setprofile",
    "sys.addaudithook",
    "sys.audit",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "sys.meta_path",
    "sys.path_hooks",
    "traceback.walk_stack",
    "traceback.walk_tb",
    "logging.currentframe",
    "os.fork",
    "os.forkpty",
    "os.system",
    "os.popen",
    "os.posix_spawn",
    "os.execv",
    "os.execve",
    "os.spawnv",
    "types.FunctionType",
    "types.CodeType",
    "types.ModuleType",
    "concurrent.futures.ProcessPoolExecutor",
    # inspect's ways to frames (the rest of it, signatures and sources, is ordinary code)
    *(
        f"inspect.{name}"
        for name in (
            "currentframe",
            "stack",
            "trace",
            "getouterframes",
            "getinnerframes",
            "getframeinfo",
            "getargvalues",
            "getgeneratorlocals",
            "getcoroutinelocals",
            "getasyncgenlocals",
            "getclosurevars",
        )
    ),
}
TENSORS = ("torch.Tensor", "torch.nn.Parameter", "torch._C.TensorBase")
BUILTINS = {
    "__import__",
    "exec",
    "eval",
    "compile",
    "globals",
    "vars",
    "breakpoint",
    "__builtins__",
}
# ``globals()`` and ``vars()`` are the code's own namespace, ``vars(x)``/``x.__dict__`` of a
# variable (``self``, ``args``) is ordinary code; of a module or a torch name, a reach.
OWN_NAMESPACE = {"globals", "vars"}
ATTRIBUTES = {  # attributes that reach into functions, frames and modules, on anything
    "__globals__",
    "__closure__",
    "__code__",
    "__builtins__",
    "__dict__",  # of a module or torch name (of a variable: ordinary code, see _namespace_read)
    "__subclasses__",
    "__self__",
    "__torch_function__",
    "__torch_dispatch__",
    "cell_contents",
    "tb_frame",
    "f_back",
    "f_globals",
    "f_locals",
    "f_builtins",
    "gi_frame",
    "cr_frame",
    "ag_frame",
    "__loader__",
    "__spec__",
}
COMPUTED = ("getattr", "setattr", "delattr", "hasattr")
SETTINGS = ("torch.backends.", "torch._dynamo.config", "torch._inductor.config")


def reaches(sources: dict[str, bytes], *, aliases: dict[str, str] | None = None) -> list[str]:
    """Where the student's files reach for the machinery, as "what (file, line N)"."""
    found = []
    for filename, tree in parsed(sources):
        found += [f"{what} ({filename}, line {line})" for what, line in _in(tree, aliases or {})]
    return sorted(set(found))


def _in(tree, aliases: dict[str, str]):
    names = {**aliases, **aliases_of(tree), **bound_to_paths(tree, aliases)}
    defined = module_level_names(tree)

    def resolved(dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        return names.get(head, head) + (f".{rest}" if rest else "")

    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    own = _own_namespace_reads(tree, names)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            for path in _imported(node):
                why = _path(path)
                if why:
                    yield why, line
        elif (
            isinstance(node, ast.Name)
            and node.id in BUILTINS
            and node.id not in defined
            and id(node) not in own
        ):
            yield node.id, line
        elif isinstance(node, ast.Constant) and node.value in MACHINERY:
            yield f"the name {node.value!r}", line
        elif isinstance(node, ast.FunctionDef) and node.name in ATTRIBUTES:
            yield f"a {node.name} of its own", line
        elif isinstance(node, ast.ClassDef):
            for base in filter(None, map(dotted_name, node.bases)):
                if resolved(base) in TENSORS:
                    yield f"a subclass of {resolved(base)}", line
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            yield from _computed(node, resolved, line)
        if isinstance(node, ast.Attribute) and node.attr in ATTRIBUTES and id(node) not in own:
            yield node.attr, line
        elif isinstance(node, ast.Attribute) and id(node) not in inner:
            dotted = dotted_name(node)
            why = _path(resolved(dotted)) if dotted else ""
            if why:
                yield why, line


def _own_namespace_reads(tree, names: dict[str, str]) -> set[int]:
    """The ``globals()``/``vars()`` calls and ``vars(x)``/``x.__dict__`` of a variable (a
    name that no import binds, nor an assignment to a module path): not reaches."""
    own = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in OWN_NAMESPACE
            and not node.keywords
        ):
            if not node.args or (
                node.func.id == "vars" and len(node.args) == 1 and _variable(node.args[0], names)
            ):
                own.add(id(node.func))
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "__dict__"
            and _variable(node.value, names)
        ):
            own.add(id(node))
    return own


def _variable(node, names: dict[str, str]) -> bool:
    return isinstance(node, ast.Name) and node.id not in names and node.id not in BUILTINS


def _imported(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [item.name for item in node.names]
    if node.level or not node.module:
        return []
    items = [f"{node.module}.{item.name}" for item in node.names]
    return [node.module, *items]


def _path(full: str) -> str:
    """Why the dotted name ``full`` is a reach, or ""."""
    if full.startswith(SETTINGS):
        return ""
    for module, why in MODULES.items():
        if full == module or full.startswith(module + "."):
            return f"{full} ({why})"
    if full in NAMES or any(full.startswith(n + ".") for n in NAMES):
        return full
    if full.startswith("torch."):
        parts = full.split(".")
        if any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in parts):
            return f"{full} (torch's internals)"
        elsewhere = _through_torch(full)
        if elsewhere:
            why = _path(elsewhere)
            return f"{full} ({why})" if why else ""
    return ""


def _through_torch(full: str) -> str:
    """A torch path through another module that torch imported (``torch.sys.modules`` is
    ``sys.modules``), as that module's path; "" if it stays in torch."""
    import inspect

    import torch

    parts, obj = full.split("."), torch
    for index, part in enumerate(parts[1:], start=2):
        obj = inspect.getattr_static(obj, part, None)
        if obj is None:
            return ""
        name = getattr(obj, "__name__", "") if inspect.ismodule(obj) else ""
        if name and not name.startswith("torch"):
            return ".".join([name, *parts[index:]])
    return ""


def _computed(node: ast.Call, resolved, line: int):
    """``getattr(torch.nn.functional, name)``: a constant name is read as the path it spells;
    any other, on a module that is a reach or torch, is a reach of its own."""
    if node.func.id not in COMPUTED or len(node.args) < 2:
        return
    base = dotted_name(node.args[0])
    if base is None:
        return
    full = resolved(base)
    name = _constant(node.args[1])
    if name is not None:
        why = _path(f"{full}.{name}") or (name if name in ATTRIBUTES else "")
        if why:
            yield why, line
        return
    # torch's public modules by a name from a configuration (getattr(nn, cfg["act"])) are
    # ordinary code; what such a name could reach past the source scan meets the guard
    if (
        _path(full)
        or full.startswith(("sys", "builtins", "gc", "inspect", "importlib"))
        or (full == "torch" or full.startswith("torch._"))
    ):
        yield f"{node.func.id}({full}, <a name computed at run time>)", line


def _constant(node) -> str | None:
    """A string the expression always is (literals joined by +, or an f-string of literals)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _constant(node.left), _constant(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = [_constant(v) for v in node.values]
        return None if None in parts else "".join(parts)
    return None
