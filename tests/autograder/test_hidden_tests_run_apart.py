"""A test's process runs the student's code, which can read all of that process's memory and say
what it found in any encoding, which no filter of the output recognises. So the hidden tests'
code (and the private modules only they import) is never in a process whose output the student
sees: visible tests run first, without it, and the hidden ones last, apart (no database)."""

from __future__ import annotations

import base64
import re

import pytest

from autograder import harness
from autograder.grader import grade_python
from autograder.sandbox import Limits

pytestmark = pytest.mark.slow
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * 2**20)


def spec(hidden_first: bool) -> bytes:
    visible = '[[tests]]\nname = "visible"\nfunction = "test_visible"\npoints = 1\n'
    hidden = '[[tests]]\nname = "hidden"\nfunction = "test_hidden"\npoints = 1\nhidden = true\n'
    tests = hidden + visible if hidden_first else visible + hidden
    head = 'files = ["relu.py"]\nharness = "test_relu.py"\nprivate = ["shared.py", "answers.py"]\n'
    return (head + tests).encode()


HARNESS = b"""from relu import relu
from shared import SAMPLE

def test_visible():
    assert relu(SAMPLE) == 0.0

def test_hidden():
    from answers import LARGE
    assert relu(LARGE) == LARGE, "SECRET-TEST: the grader checks a large input"
"""
SHARED = b"SAMPLE = -1.0\n"
ANSWERS = b"LARGE = 1e6  # SECRET-HELPER: only the hidden test imports this\n"
# Looks through every object of its process for text of the hidden test and of its helper, and
# what an earlier test process left in a file, and says it in base64 (which no filter knows).
DIG = """import base64, gc, json, os, types

def _texts(roots, seen):
    stack = list(roots)
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, str):
            yield value
        elif isinstance(value, (bytes, bytearray)):
            yield bytes(value).decode("utf-8", "replace")
        elif isinstance(value, dict):
            stack.extend(list(value.values()))
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend(list(value))
        elif isinstance(value, types.CodeType):
            stack.extend(value.co_consts)
        elif isinstance(value, types.FunctionType):
            stack.append(value.__code__)
        elif not isinstance(value, type):
            try:
                stack.append(object.__getattribute__(value, "__dict__"))
            except Exception:
                pass

def dig():
    markers = ["-".join(["SECRET", part]) for part in ("TEST", "HELPER")]
    found = set()
    for text in _texts(gc.get_objects(), {id(found), id(markers)}):
        for marker in markers:
            if marker in text and text != marker:
                found.add(text[text.index(marker):][:60])
    if os.path.exists("left.json"):
        found.update(json.load(open("left.json")))
    return sorted(found)

def relu(x):
    found = dig()
    if x < 0:  # the visible test: its output is shown
        raise AssertionError("FOUND " + base64.b64encode(json.dumps(found).encode()).decode())
    json.dump(found, open("left.json", "w"))  # for a test process after this one
    return max(0.0, x)
"""


def found_by_the_visible_test(output: str) -> list[str]:
    [payload] = re.findall(r"FOUND (\S+)", output)
    return __import__("json").loads(base64.b64decode(payload))


@pytest.mark.parametrize("hidden_first", [False, True], ids=["visible first", "hidden first"])
def test_it_keeps_the_hidden_tests_code_out_of_the_visible_tests_process(hidden_first):
    files = {
        "autograder.toml": spec(hidden_first),
        "test_relu.py": HARNESS,
        "shared.py": SHARED,
        "answers.py": ANSWERS,
    }

    result = grade_python(
        spec=harness.parse(spec(hidden_first)),
        instructor_files=files,
        submitted={"relu.py": DIG.encode()},
        data_files={},
        limits=LIMITS,
        test_timeout=60,
    )

    tests = {t.name: t for t in result.tests}
    assert found_by_the_visible_test(tests["visible"].output) == []
    assert (tests["visible"].score, tests["hidden"].score) == (0, 1)  # the hidden test ran


def test_the_visible_harness_keeps_what_visible_tests_need_and_drops_hidden_functions():
    parsed = harness.parse(spec(False))
    modules = {"test_relu.py": HARNESS, "shared.py": SHARED, "answers.py": ANSWERS}

    visible = harness.visible_modules(parsed, modules)

    assert set(visible) == {"test_relu.py", "shared.py"}
    text = visible["test_relu.py"].decode()
    assert "def test_visible" in text and "from shared import SAMPLE" in text
    assert "SECRET" not in text and "answers" not in text
    assert text.count("\n") == HARNESS.decode().count("\n")  # tracebacks' line numbers hold
