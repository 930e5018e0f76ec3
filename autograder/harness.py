"""Python-file assignments: the instructor's test harness and its spec (``autograder.toml``).

An assignment of this kind is imported from a folder like this::

    autograder.toml     the spec below
    test_relu.py        the harness: plain test functions with ``assert`` (kept from students)
    relu.py             optional starter file that students download and fill in
    digits.npz          any other file: given to students and present when tests run

and ``autograder.toml`` says what students hand in and what each test is worth::

    files = ["relu.py"]            # the files a submission must contain, by name
    harness = "test_relu.py"       # the test functions live here
    private = ["reference.py"]     # optional: more files kept from students (helpers, solutions)
    test_timeout = 10              # optional: seconds per test (default: the assignment's)

    [[tests]]
    name = "relu_positive"         # what students see
    function = "test_relu_positive"  # optional: the harness function (default: the name)
    points = 2
    hidden = false                 # optional: hidden tests show pass/fail and points, no output

Reference checks against PyTorch go in ``[[checks]]`` (``autograder.checks``), beside the tests or
instead of them (then no harness is needed).

A test passes when its function returns; an ``AssertionError`` fails it with its message, any
other exception with its traceback; ``sys.exit`` or a crash fails that test only, and a test that
runs past ``test_timeout`` is stopped and fails. The tests run in the sandbox (``pyrunner``).

The harness and the private ``.py`` helpers are never files the student's code could open: the
tests import them from memory (``pyrunner``), tracebacks show only the visible tests' lines
(``shown_view``), and an output holding text of the rest is not shown (``secret_fragments``).
The visible tests run in processes that get the harness without its hidden test functions, and
without the private modules only those import (``visible_modules``): the student's code runs in
the same process as a test, can read all of its memory and can encode what it finds in a way no
filter recognises, so what must stay secret is kept out of the processes whose output is shown.
"""

from __future__ import annotations

import ast
import keyword
import sys
import tomllib
from dataclasses import dataclass
from decimal import Decimal

from autograder.checks.exchange import probe_spec
from autograder.checks.parsing import parse as parse_checks
from autograder.checks.parsing import reference_files
from autograder.checks.spec import Check, CheckError, positive_points

SPEC_NAME = "autograder.toml"


class SpecError(ValueError):
    """The spec is not one we can grade with; the message says why."""


@dataclass(frozen=True)
class HarnessTest:
    name: str
    function: str
    points: Decimal
    hidden: bool = False


@dataclass(frozen=True)
class HarnessSpec:
    files: tuple[str, ...]
    harness: str | None  # None: reference checks only
    tests: tuple[HarnessTest, ...]
    private: tuple[str, ...] = ()
    test_timeout: int | None = None
    checks: tuple[Check, ...] = ()

    @property
    def points(self) -> Decimal:
        return sum((t.points for t in (*self.tests, *self.checks)), Decimal(0))

    @property
    def sandbox_files(self) -> set[str]:
        """The instructor's files that go into the sandbox: the harness and its private helpers,
        never the spec or a file the checks take their reference from."""
        harness = [self.harness] if self.harness else []
        return {*harness, *self.private} - reference_files(self.checks)

    @property
    def kept_from_students(self) -> set[str]:
        harness = [self.harness] if self.harness else []
        return {SPEC_NAME, *harness, *self.private, *reference_files(self.checks)}

    def runner_spec(self, test_timeout: int, output_bytes: int, *, skip=frozenset()) -> dict:
        """What ``pyrunner`` reads: the harness module, the functions to call, then the checks'
        probes (all but those in ``skip``), in order, the hidden ones last (``pyrunner`` runs
        them apart, after every test whose output the student sees)."""
        entries = [{"name": t.name, "function": t.function, "hidden": t.hidden} for t in self.tests]
        entries += [
            {"name": c.name, "probe": probe_spec(c), "hidden": c.hidden}
            for c in self.checks
            if c.name not in skip
        ]
        entries.sort(key=lambda entry: entry["hidden"])  # stable: in order within each
        return {
            "harness": self.harness,
            "tests": entries,
            "test_timeout": self.test_timeout or test_timeout,
            "output_bytes": output_bytes,
        }


def parse(data: bytes) -> HarnessSpec:
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{SPEC_NAME} is not valid TOML: {exc}") from exc
    unknown = set(raw) - {"files", "harness", "private", "test_timeout", "tests", "checks"}
    if unknown:
        raise SpecError(f"{SPEC_NAME}: unknown keys {sorted(unknown)}.")
    files = _names(raw.get("files"), "files", required=True)
    private = _names(raw.get("private", []), "private", required=False)
    try:
        found_checks = parse_checks(raw.get("checks"), default_module=files[0].rsplit(".", 1)[0])
    except CheckError as exc:
        raise SpecError(f"{SPEC_NAME}: {exc}") from exc
    harness = raw.get("harness")
    if harness is None and not found_checks:
        raise SpecError(f"{SPEC_NAME}: name a harness, or give [[checks]].")
    if harness is not None and (
        not isinstance(harness, str) or not harness.endswith(".py") or "/" in harness
    ):
        raise SpecError(f"{SPEC_NAME}: harness must name a .py file beside it.")
    if harness is not None and not _module_name(harness[:-3]):
        raise SpecError(f"{SPEC_NAME}: {harness} cannot be imported (not a module name).")
    shadowing = sorted(n for n in [*files, *private, harness or ""] if _shadows_loaded(n))
    if shadowing:
        raise SpecError(
            f"{SPEC_NAME}: {', '.join(shadowing)} has the name of a module of Python's standard "
            "library or torch, which the test runner loads before the tests: importing it would "
            "give that module, not the file. Rename it."
        )
    clash = ({harness, SPEC_NAME} | set(private)) & set(files)
    if clash:
        raise SpecError(f"{SPEC_NAME}: students cannot hand in {sorted(clash)}: those are yours.")
    timeout = raw.get("test_timeout")
    if timeout is not None and (not isinstance(timeout, int) or not 1 <= timeout <= 3600):
        raise SpecError(f"{SPEC_NAME}: test_timeout must be a whole number of seconds, 1-3600.")
    tests = tuple(_test(entry, i) for i, entry in enumerate(raw.get("tests") or []))
    if harness is not None and not tests:
        raise SpecError(f"{SPEC_NAME} has no [[tests]].")
    names = [t.name for t in (*tests, *found_checks)]
    if len(set(names)) != len(names):
        raise SpecError(f"{SPEC_NAME}: test and check names must be unique.")
    return HarnessSpec(tuple(files), harness, tests, tuple(private), timeout, found_checks)


def _names(value, key: str, *, required: bool) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{SPEC_NAME}: {key} must be a list of file names.")
    if required and not value:
        raise SpecError(f"{SPEC_NAME}: {key} must name at least one file.")
    for name in value:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise SpecError(f"{SPEC_NAME}: {name!r} in {key} is not a plain file name.")
    return value


def _test(entry, index: int) -> HarnessTest:
    if not isinstance(entry, dict):
        raise SpecError(f"{SPEC_NAME}: test {index + 1} is not a table.")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SpecError(f"{SPEC_NAME}: test {index + 1} has no name.")
    function = entry.get("function", name)
    if not isinstance(function, str) or not _module_name(function):
        raise SpecError(f"{SPEC_NAME}: test {name!r}: {function!r} is not a function name.")
    points = positive_points(entry.get("points"))
    if points is None:
        raise SpecError(f"{SPEC_NAME}: test {name!r} needs points greater than 0.")
    hidden = entry.get("hidden", False)
    if not isinstance(hidden, bool):
        raise SpecError(f"{SPEC_NAME}: test {name!r}: hidden is true or false.")
    return HarnessTest(name.strip(), function, points, hidden)


def _shadows_loaded(name: str) -> bool:
    """A ``.py`` file named like a module the test runner imports before the student's folder is
    on the path (``pyrunner``: the standard library, torch)."""
    module = name[:-3] if name.endswith(".py") else None
    return module in sys.stdlib_module_names or module == "torch"


def _module_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


MIN_SECRET_CHARS = 8  # shorter lines and strings are too common to tell anything


def visible_modules(spec: HarnessSpec, modules: dict[str, bytes]) -> dict[str, bytes]:
    """``modules`` (the harness and the private ``.py`` helpers) as the processes that run the
    visible tests get them: the harness with each hidden test function's definition replaced by
    ``name = None`` (line numbers kept), and without the private modules that only hidden test
    functions import. What the visible tests need (module-level code, helpers they or the module
    import, also dynamically imported ones) stays: the student's code can read that."""
    hidden = {t.function for t in spec.tests if t.hidden} - {
        t.function for t in spec.tests if not t.hidden
    }
    if spec.harness not in modules or not hidden:
        return dict(modules)
    text = modules[spec.harness].decode("utf-8", "replace")
    kept, removed = _without_functions(text, hidden)
    private = {name[:-3]: name for name in modules if name != spec.harness}
    needed, stack = set(), [kept]
    while stack:
        for module in _imported(stack.pop()) & set(private) - needed:
            needed.add(module)
            stack.append(modules[private[module]].decode("utf-8", "replace"))
    only_hidden = (_imported("".join(removed)) & set(private)) - needed
    visible = {n: c for n, c in modules.items() if n[:-3] not in only_hidden}
    visible[spec.harness] = kept.encode("utf-8")
    return visible


def _without_functions(text: str, names: set[str]) -> tuple[str, list[str]]:
    """(``text`` with the module-level functions ``names`` replaced by ``name = None`` and blank
    lines, the text removed)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return text, []  # it fails the same way in every process
    lines = text.splitlines(keepends=True)
    removed = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            removed.append("".join(lines[start : node.end_lineno]))
            lines[start : node.end_lineno] = [f"{node.name} = None\n"] + ["\n"] * (
                node.end_lineno - start - 1
            )
    return "".join(lines), removed


def _imported(text: str) -> set[str]:
    """The top-level names of the modules ``text`` imports (absolute imports, anywhere in it)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def shown_view(source: bytes, visible: set[str]) -> str:
    """The harness as tracebacks may show it: the lines of the ``visible`` test functions, and
    blank lines for the rest (so that line numbers still hold)."""
    text = source.decode("utf-8", "replace")
    keep = _function_lines(text, visible)
    lines = text.splitlines(keepends=True)
    return "".join(line if number in keep else "\n" for number, line in enumerate(lines, 1))


def secret_fragments(
    spec: HarnessSpec, hidden: dict[str, bytes], students: dict[str, bytes]
) -> set[str]:
    """Text of the ``hidden`` files (the harness, private helpers) that no test's output may
    hold: their lines and string constants outside the visible tests' functions, less what the
    student's own files hold and what is too short to mean anything."""
    visible = {t.function for t in spec.tests if not t.hidden}
    fragments, shown = set(), set()
    for name, content in hidden.items():
        text = content.decode("utf-8", "replace")
        keep = _function_lines(text, visible) if name == spec.harness else set()
        for number, line in enumerate(text.splitlines(), 1):
            (shown if number in keep else fragments).add(line.strip())
        for number, string in _strings(text):
            (shown if number in keep else fragments).add(string.strip())
    public = shown | {
        line.strip()
        for c in students.values()
        for line in c.decode("utf-8", "replace").splitlines()
    }
    return {f for f in fragments - public if len(f) >= MIN_SECRET_CHARS}


def _function_lines(text: str, names: set[str]) -> set[int]:
    """The line numbers of the module-level functions ``names``, decorators included."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return set()
    lines = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines.update(range(start, node.end_lineno + 1))
    return lines


def _strings(text: str) -> list[tuple[int, str]]:
    """(line, value) of each string constant: an assertion's message, for one."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
