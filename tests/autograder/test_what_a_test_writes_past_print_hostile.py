"""A hostile submission against the spool that keeps what a test writes to file descriptor 1
(``pytester._descriptor_output``): whatever the student's code does to the descriptors, the
standard streams or the spool in one test, the next test still runs and keeps its own output,
and no output moves from one test to another."""

from __future__ import annotations

import pytest

from tests.autograder.test_what_a_test_writes_past_print import grade_harness

pytestmark = pytest.mark.slow
SPEC = (
    b'files = ["relu.py"]\nharness = "test_relu.py"\n'
    b'[[tests]]\nname = "a"\nfunction = "test_a"\npoints = 1\n'
    b'[[tests]]\nname = "b"\nfunction = "test_b"\npoints = 1\n'
)
TESTS = """import os, subprocess, sys
from relu import relu

def test_a():
    FIRST
    assert relu(2) == 2

def test_b():
    print("b by print")
    os.write(1, b"b by the descriptor\\n")
    assert relu(-1) == 0
"""


def grade(first: str):
    return grade_harness(SPEC, TESTS.replace("FIRST", first))


def assert_b_is_whole(tests):
    b = tests[1]
    assert (b.status, b.score) == ("passed", 1), b.output
    assert sorted(b.output.splitlines()) == ["b by print", "b by the descriptor"]


@pytest.mark.parametrize(
    "first",
    [
        "sys.__stdout__ = None",
        "sys.__stdout__ = 1",
        "sys.__stdout__.flush = lambda: 1 / 0",
    ],
)
def test_a_test_that_replaces_the_real_stdout_does_not_break_the_next(first):
    tests = grade(first).tests

    assert (tests[0].status, tests[0].score) == ("passed", 1), tests[0].output
    assert_b_is_whole(tests)


@pytest.mark.parametrize(
    "first",
    [
        "os.close(1)",
        "[os.close(fd) for fd in range(3, 40) if fd not in (0, 2)]",
        "os.dup2(os.open(os.devnull, os.O_WRONLY), 1)",
    ],
)
def test_a_test_that_closes_or_replaces_descriptors_does_not_break_the_next(first):
    tests = grade(first + "; sys.stdout = sys.__stdout__").tests

    assert_b_is_whole(tests)


def test_what_it_left_unflushed_in_the_real_stdout_is_its_own_not_the_next_tests():
    tests = grade("sys.__stdout__.write('a unflushed\\n')").tests

    assert "a unflushed" in tests[0].output
    assert_b_is_whole(tests)


def test_a_child_left_writing_after_its_test_reaches_no_other_test():
    # It writes 6 ** 20 (a number not in the harness's text, which the output may not show).
    child = (
        'import os, time\\nfor _ in range(40):\\n    os.write(1, b"%d" % 6 ** 20); time.sleep(0.05)'
    )
    tests = grade(f"subprocess.Popen([sys.executable, '-c', '{child}'])").tests

    assert str(6**20) not in tests[1].output
    assert_b_is_whole(tests)


def test_bytes_that_are_not_text_and_a_flood_are_kept_cut_not_a_fault():
    # 60 MB: under the sandbox's RLIMIT_FSIZE (64 MB), past which the spool's write fails (EFBIG).
    flood = "[os.write(1, b'y' * 2**20) for _ in range(60)]"
    tests = grade("os.write(1, b'\\xff\\xfe\\x00bad\\n'); " + flood).tests

    a = tests[0]
    assert (a.status, a.score) == ("passed", 1)
    assert a.output.startswith("\ufffd\ufffd\x00bad\n")
    assert a.output.endswith("KB]")
    assert_b_is_whole(tests)


def test_what_the_c_library_printed_is_the_tests_that_printed_it():
    """``printf`` to a file is buffered by the C library until it fills or is flushed: a test's
    C output would otherwise surface in a later test that flushes, or nowhere."""
    tests = grade("import ctypes; ctypes.CDLL(None).printf(b'a by printf %d\\n', 6 ** 9)").tests

    assert tests[0].output == f"a by printf {6**9}\n"
    assert_b_is_whole(tests)
