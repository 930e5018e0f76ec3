"""Reference checks in a notebook: they name the notebook's variables and run after its cells, in
its kernel, or in place of an nbgrader grade cell that declares one.
"""

from __future__ import annotations

import pytest

from autograder.checks.cells import cell_checks
from autograder.checks.parsing import parse_toml
from autograder.checks.spec import CheckError
from autograder.sandbox import Limits

# In a notebook: checks name the notebook's variables and run after its cells, in its kernel

NOTEBOOK_CHECKS = b"""
[[checks]]
name = "relu on tensors"
kind = "function"
target = "relu"
reference = "torch.relu"
inputs = [[3, 4]]
gradients = true
forbid = ["torch.relu", "torch.nn.functional.relu"]
points = 2
"""


def grade_notebook_with_checks(body: str):
    from autograder.notebook_pipeline import grade_notebook
    from tests.autograder.nbfactory import source_bytes, student_notebook

    return grade_notebook(
        source=source_bytes(),
        submitted=student_notebook(body),
        data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120),
        cell_timeout=30,
        reference_checks=parse_toml(NOTEBOOK_CHECKS),
    )


@pytest.mark.parametrize(
    ("body", "points", "message"),
    [
        ("    import torch\n    return torch.where(x > 0, x, torch.zeros_like(x))", 2, ""),
        # torch.relu's gradient at 0 is 0; x * (x > 0)'s too, but abs's is not: the edge value 0
        (
            "    return (x + x.abs()) / 2",
            0,
            "gradient with respect to argument 1: 1 of 12 differ; "
            "the first at index [0, 0]: expected 0, got",
        ),
        # clamp(min=0) is ReLU under another name: a relative of the forbidden torch.relu
        (
            "    return x.clamp(min=0)",
            0,
            "It calls torch.Tensor.clamp (a relative of torch.relu), which this check forbids.",
        ),
        ("    return x.abs() if hasattr(x, 'abs') else max(0, x)", 0, "Values of the output"),
        (
            "    import torch\n    return torch.relu(x)",
            0,
            "forbids: torch.relu (cell relu, line 3)",
        ),
    ],
)
def test_checks_run_on_a_notebooks_variables(body, points, message):
    result = grade_notebook_with_checks(body)

    [check] = [t for t in result.tests if t.name == "relu on tensors"]
    assert (check.score, check.max_score) == (points, 2) and message in check.output
    assert b"probes" not in result.executed  # the check cells are not in the kept notebook


@pytest.mark.django_db
def test_a_notebook_imported_with_checks_keeps_them_from_students_and_counts_their_points(course):
    from autograder import selectors
    from autograder.services.assignments import assignment_import
    from autograder.services.autograde import grade_files
    from grading.services.schemes import grading_scheme_create
    from tests.autograder.nbfactory import source_bytes, student_notebook
    from tests.grading.conftest import LETTERS, SLIDES

    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    assignment = assignment_import(
        course=course,
        slug="a1",
        files={"a1.ipynb": source_bytes(), "autograder.toml": NOTEBOOK_CHECKS},
    )

    assert assignment.kind == "notebook" and assignment.item.max_points == 3 + 2
    downloadable = selectors.downloadable_files(assignment=assignment).values_list("name")
    assert list(downloadable) == [("a1.ipynb",)]
    body = "    import torch\n    return torch.where(x > 0, x, torch.zeros_like(x))"
    result = grade_files(assignment, {"a1.ipynb": student_notebook(body)})
    assert {t.name: t.score for t in result.tests}["relu on tensors"] == 2


@pytest.mark.django_db
def test_a_network_check_whose_weights_are_missing_is_refused_at_import(course):
    from django.core.exceptions import ValidationError

    from autograder.services.assignments import assignment_import
    from tests.autograder.nbfactory import source_bytes

    spec = (
        b'[[checks]]\nname = "freeze"\nkind = "network"\ntarget = "freeze"\n'
        b'reference = "ref:freeze"\nnetwork = "Net"\nweights = "net.safetensors"\n'
        b"points = 1\n"
    )
    files = {"a.ipynb": source_bytes(), "autograder.toml": spec, "ref.py": b""}

    with pytest.raises(ValidationError, match=r"net\.safetensors, which is not here"):
        assignment_import(course=course, slug="a3", files=files)


# A check declared in an nbgrader grade cell, where nbgrader puts tests

CHECK_CELL = """# [[checks]]
## relu against torch.relu, values and gradients
# kind = "function"
# target = "relu"
# reference = "torch.relu"
# inputs = [[3, 4]]
# gradients = true
"""


def source_with_check_cell(cell_source: str = CHECK_CELL, **meta_overrides):
    from nbformat.v4 import new_code_cell

    from tests.autograder.nbfactory import meta, source_notebook

    notebook = source_notebook()
    cell_meta = meta("relu_matches_torch", grade=True, locked=True, points=2)
    cell_meta["nbgrader"].update(meta_overrides)
    notebook.cells.insert(2, new_code_cell(cell_source, metadata=cell_meta))
    return notebook


def grade_with_check_cell(body: str, *, extra_cells=()):
    import nbformat

    from autograder.notebook_pipeline import grade_notebook
    from tests.autograder.nbfactory import student_notebook

    source = source_with_check_cell()
    return grade_notebook(
        source=nbformat.writes(source).encode(),
        submitted=student_notebook(body, extra_cells=extra_cells),
        data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120),
        cell_timeout=30,
    )


def test_a_check_in_a_grade_cell_runs_in_its_place_and_is_scored_once():
    import nbformat

    from autograder import feedback, grades

    right = "    import torch\n    return torch.where(x > 0, x, torch.zeros_like(x))"
    # a later cell of the student's breaks relu: the check, in its cell, ran before that
    result = grade_with_check_cell(right, extra_cells=["relu = None"])

    assert [(t.name, t.score) for t in result.tests if t.name != "why_relu"] == [
        ("test_relu", 0),  # nbgrader's own test: relu(-1) on a Python int, here a torch error
        ("relu_matches_torch", 2),
    ]
    kept = nbformat.reads(result.executed, as_version=4)
    [cell] = [c for c in kept.cells if c.metadata.get("autograder")]
    assert cell.source == CHECK_CELL and cell.outputs == []  # as the instructor wrote it

    wrong = grade_with_check_cell("    return x.clamp(min=0)")
    [check] = [t for t in wrong.tests if t.name == "relu_matches_torch"]
    assert check.score == 0 and "gradient with respect to argument 1" in check.output
    views = feedback.notebook_cells(
        nbformat.reads(wrong.executed, as_version=4),
        source=source_with_check_cell(),
        rows=grades.test_dicts(wrong),
    )
    [view] = [v for v in views if v.grade_id == "relu_matches_torch"]
    assert "gradient with respect to argument 1" in view.message and "kind =" in view.source


@pytest.mark.parametrize(
    ("cell_source", "overrides", "message"),
    [
        (CHECK_CELL + "relu(1)\n", {}, "holds only comments"),
        (CHECK_CELL + "# points = 3\n", {}, "name and points are the cell's"),
        (CHECK_CELL + "# inputs = [[3\n", {}, "not valid TOML"),
        (CHECK_CELL, {"grade": False}, "not an nbgrader autograder test"),
        (CHECK_CELL.replace("torch.relu", ""), {}, "names no reference"),
    ],
)
def test_a_bad_check_cell_is_refused_with_the_reason(cell_source, overrides, message):
    with pytest.raises(CheckError, match=message):
        cell_checks(source_with_check_cell(cell_source, **overrides))


@pytest.mark.django_db
def test_a_check_cells_points_count_once_when_imported(course):
    import nbformat

    from autograder.services.assignments import assignment_import
    from grading.services.schemes import grading_scheme_create
    from tests.grading.conftest import LETTERS, SLIDES

    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    source = nbformat.writes(source_with_check_cell()).encode()
    assignment = assignment_import(course=course, slug="a1", files={"a1.ipynb": source})

    assert assignment.item.max_points == 2 + 1 + 2  # test_relu, why_relu, the check cell


FORGE = """import torch
from safetensors.torch import load_file, save_file
x = load_file("check-0-in.safetensors")["arg0"].requires_grad_(True)
out = torch.relu(x)
g = torch.Generator().manual_seed(1)
out.backward(torch.randn(out.shape, generator=g, dtype=torch.float64).float())
save_file({"out": out.detach(), "grad_arg0": x.grad}, "check-0-out.safetensors")
"""


def test_outputs_forged_after_the_check_ran_are_not_the_ones_compared():
    import nbformat

    from autograder.notebook_pipeline import grade_notebook
    from tests.autograder.nbfactory import student_notebook

    result = grade_notebook(
        source=nbformat.writes(source_with_check_cell()).encode(),
        submitted=student_notebook("    return x", extra_cells=[FORGE]),
        data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120),
        cell_timeout=30,
    )

    # The runner took the check's own outputs away when its cell ended and put them back last:
    # the forgery (the right answer, written by a later cell) is not what is compared.
    [check] = [t for t in result.tests if t.name == "relu_matches_torch"]
    assert check.score == 0 and "Values of the output" in check.output, check.output


def test_outputs_that_differ_from_what_the_runner_took_are_refused():
    from autograder.checks.scoring import changed_outputs

    signed = {"check-0-out.safetensors": __import__("hashlib").sha256(b"ours").hexdigest()}

    assert changed_outputs({"check-0-out.safetensors": b"ours"}, signed) == set()
    assert changed_outputs({"check-0-out.safetensors": b"theirs"}, signed) == {
        "check-0-out.safetensors"
    }
    assert changed_outputs({"check-1-out.safetensors": b"never taken"}, signed) == {
        "check-1-out.safetensors"
    }
