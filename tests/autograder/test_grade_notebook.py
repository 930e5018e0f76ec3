"""Grading notebooks end to end in the sandbox, the way the worker and `autograde` do: right,
wrong, crashing, hanging and dishonest submissions (no database)."""

from __future__ import annotations

from decimal import Decimal

import nbformat
import pytest

from autograder.grades import results_json
from autograder.notebook_pipeline import grade_notebook
from autograder.sandbox import Limits, isolation_level
from tests.autograder.nbfactory import source_bytes, student_notebook

pytestmark = pytest.mark.slow
LIMITS = Limits(wall_seconds=60, cpu_seconds=60, memory_bytes=1536 * 2**20)


def grade(submitted: bytes, *, cell_timeout: int = 10, limits: Limits = LIMITS):
    return grade_notebook(
        source=source_bytes(),
        submitted=submitted,
        data_files={},
        limits=limits,
        cell_timeout=cell_timeout,
        filename="a1.ipynb",
    )


def scores(result) -> dict[str, Decimal | None]:
    return {test.name: test.score for test in result.tests}


def test_a_right_answer_gets_the_test_points_and_waits_for_the_written_one():
    result = grade(student_notebook())

    assert scores(result) == {"test_relu": 2, "why_relu": None}
    assert result.isolation == isolation_level()  # bubblewrap where it works
    assert result.executed  # the executed notebook is kept for the student


def test_a_wrong_answer_fails_with_the_assertion_message_but_not_the_hidden_source():
    result = grade(student_notebook("    return x"))  # wrong for negative inputs

    [test] = [t for t in result.tests if t.name == "test_relu"]
    assert (test.score, test.status) == (0, "failed")
    assert "relu(-1) should be 0" in test.output
    assert "relu(3)" not in test.output


def test_a_hidden_test_catches_what_the_visible_one_misses():
    result = grade(student_notebook("    return 0"))

    [test] = [t for t in result.tests if t.name == "test_relu"]
    assert test.score == 0 and "AssertionError in a test with a hidden part" in test.output
    assert "relu(3)" not in test.output


def test_changing_the_test_cell_does_not_help():
    def cheat(notebook):
        notebook.cells[2].source = "pass"

    result = grade(student_notebook("    return 0", edit=cheat))

    assert scores(result)["test_relu"] == 0
    assert any("locked" in note for note in result.notes)


def test_sys_exit_in_a_solution_is_a_result():
    result = grade(student_notebook("    return max(0, x)\nimport sys\nsys.exit(3)"))

    assert scores(result)["test_relu"] == 2  # IPython survives SystemExit; the tests still run


def test_a_killed_kernel_scores_the_cells_after_it_zero():
    result = grade(student_notebook("    return max(0, x)\nimport os\nos._exit(0)"))

    assert scores(result)["test_relu"] == 0
    assert any("kernel died" in note for note in result.notes)


def test_an_endless_cell_is_stopped_and_the_next_cells_still_run():
    result = grade(student_notebook("    return max(0, x)\nwhile True:\n    pass"), cell_timeout=3)

    assert scores(result)["test_relu"] == 2


def test_hiding_the_traceback_does_not_turn_a_failure_into_a_pass():
    hide = "get_ipython().showtraceback = lambda *a, **k: None"

    result = grade(student_notebook(f"    return 0\n{hide}"))

    assert scores(result)["test_relu"] == 0


def test_rewriting_the_executed_notebook_from_a_background_process_is_detected():
    forge = (
        "    return 0\n"
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', '''\n"
        "import time, json\n"
        "for _ in range(400):\n"
        "    time.sleep(0.01)\n"
        "    try:\n"
        '        nb = json.load(open("executed.ipynb"))\n'
        "    except Exception:\n"
        "        continue\n"
        '    for cell in nb["cells"]:\n'
        '        cell["outputs"] = [] if cell["cell_type"] == "code" else cell.get("outputs")\n'
        '    json.dump(nb, open("executed.ipynb", "w"))\n'
        "'''], start_new_session=True)"
    )

    result = grade(student_notebook(forge))

    # Without the check, the forged notebook (outputs stripped) would pass every test.
    assert scores(result)["test_relu"] == 0
    assert "The grading files were changed by the submission" in result.notes[0]


def test_a_file_that_is_not_a_notebook_scores_zero_with_a_reason():
    result = grade(b"print('hello')")

    assert scores(result)["test_relu"] == 0
    assert "not valid JSON" in result.notes[0]


def test_the_results_are_gradescope_json():
    result = grade(student_notebook())

    data = results_json(result)

    assert data["score"] == 2
    assert data["tests"][0] == {
        "name": "test_relu",
        "score": 2.0,
        "max_score": 2.0,
        "status": "passed",
        "output": "",
        "visibility": "visible",
    }
    assert data["tests"][1]["score"] is None and data["tests"][1]["status"] == "failed"
    assert nbformat.reads(result.executed.decode(), as_version=4).cells


@pytest.mark.parametrize(
    "trick",
    [
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])",
        "get_ipython().input_transformer_manager.line_transforms.append(lambda lines: ['pass\\n'])",
        "ip = get_ipython()\n_run = ip.run_cell\n"
        "ip.run_cell = lambda raw_cell, *a, **k: _run('pass', *a, **k)",
        "import ast\nclass Empty(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n        return ast.Module(body=[], type_ignores=[])\n"
        "get_ipython().ast_transformers.append(Empty())",
    ],
    ids=["cleanup-transformer", "line-transformer", "run_cell", "ast-transformer"],
)
def test_changing_how_the_kernel_runs_later_cells_does_not_pass_the_tests(trick):
    result = grade(student_notebook(f"    return 0\n{trick}"))

    assert scores(result)["test_relu"] == 0


def test_the_guard_leaves_an_honest_notebook_alone():
    result = grade(student_notebook("    return max(0, x)\nimport numpy as np"))

    assert scores(result)["test_relu"] == 2
    assert not any("changed how the kernel" in note for note in result.notes)


def test_the_students_code_cannot_read_the_hidden_tests_from_the_notebook_file():
    # The runner removes the notebook it was given (hidden tests and all) before any cell runs.
    result = grade(
        student_notebook(
            "    import os\n"
            "    assert not os.path.exists('submission.ipynb'), 'the hidden tests are readable'\n"
            "    return max(0, x)"
        )
    )

    assert scores(result)["test_relu"] == 2, result.tests
