"""Reference checks: the student's function, module, optimizer and scheduler against PyTorch's,
compared in the worker, never next to the student's code.

``checks_fixture/`` holds a spec with one check of each kind and a right solution; the wrong
solutions below are that solution with one mistake each.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import torch

from autograder import checks, harness
from autograder.grader import grade_python
from autograder.sandbox import Limits

FIXTURE = Path(__file__).parent / "checks_fixture"
SPEC = harness.parse((FIXTURE / "autograder.toml").read_bytes())
RIGHT = (FIXTURE / "nn.py").read_text()
POINTS = {
    "ELU": 1, "BatchNorm": 2, "Adam": 2, "exponential schedule": 1, "inverted dropout": 1,
    "digits classifier": 2,
}  # fmt: skip


def grade(source: str):
    return grade_python(
        spec=SPEC, instructor_files={}, submitted={"nn.py": source.encode()}, data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120), test_timeout=30,
    )  # fmt: skip


def with_mistake(old: str, new: str) -> str:
    assert old in RIGHT
    return RIGHT.replace(old, new)


ELU_LINE = "return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))"
MISTAKES = {
    "Adam without bias correction of the second moment": (
        "vh = v / (1 - self.b2**self.t)", "vh = v", "Adam",
        "Values of parameter 1 after step 1",
    ),
    "BatchNorm using the batch statistics in eval mode": (
        "        if self.training:", "        if True:", "BatchNorm",
        "Values of the output in evaluation mode",
    ),
    "BatchNorm's running variance not unbiased": (
        "var * n / (n - 1)", "var", "BatchNorm", "Values of running_var after a training step",
    ),
    "a scheduler that steps once too often": (
        'g["lr"] *= self.gamma', 'g["lr"] *= self.gamma * self.gamma', "exponential schedule",
        "Values of the learning rate by epoch: 5 of 6 differ; the first at index [1]: "
        "expected 0.09, got 0.081",
    ),
    "ELU off by one in a formula": (
        ELU_LINE, "return torch.where(x > 0, x, alpha * torch.exp(x))", "ELU",
        "Values of the output",
    ),
    "ELU without a gradient": (
        ELU_LINE, "return torch.where(x > 0, x, alpha * (torch.exp(x) - 1)).detach()", "ELU",
        "does not depend on its input through autograd",
    ),
    "ELU calling the forbidden API": (
        ELU_LINE, "return torch.nn.functional.elu(x, alpha)", "ELU",
        "uses what this check forbids: torch.nn.functional.elu (nn.py, line 5)",
    ),
    "ELU calling the forbidden API by a name the source does not show": (
        ELU_LINE, 'return getattr(torch.nn.functional, "e" + "lu")(x, alpha)', "ELU",
        "It calls torch.nn.functional.elu, which this check forbids.",
    ),
    "ELU returning a list": (
        ELU_LINE, f"{ELU_LINE}.tolist()", "ELU", "is a list, not a torch.Tensor",
    ),
    "dropout without rescaling": (
        "return x * keep / (1 - self.p)", "return x * keep", "inverted dropout",
        "the units it kept are scaled by 1 on average; expected 1/(1-p) = 1.429",
    ),
    "dropout with p the wrong way round": (
        "keep = (torch.rand_like(x) >= self.p)", "keep = (torch.rand_like(x) < self.p)",
        "inverted dropout", "of the units; expected p = 0.3 (within 0.01",
    ),
    "dropout that drops the same units every time": (
        "keep = (torch.rand_like(x) >= self.p)",
        "keep = (torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) >= self.p)",
        "inverted dropout", "dropped the same units on two calls",
    ),
    "dropout also in evaluation mode": (
        "        if not self.training:\n            return x\n", "", "inverted dropout",
        "In evaluation mode it should return its input unchanged.",
    ),
    "an optimizer that never moves": (
        "            p.sub_(self.lr * mh / (vh.sqrt() + self.eps))", "            pass", "Adam",
        "Values of parameter 1 after step 1",
    ),
}  # fmt: skip


def test_the_right_solution_scores_full_marks():
    result = grade(RIGHT)

    assert {t.name: (t.score, t.status) for t in result.tests} == {
        name: (Decimal(points), "passed") for name, points in POINTS.items()
    }
    device = checks.best_device()  # cuda on a GPU machine
    assert result.device == device and f"Reference checks ran on {device}." in result.notes


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_mistake_loses_exactly_its_checks_points_and_is_named(mistake):
    old, new, check, message = MISTAKES[mistake]

    result = grade(with_mistake(old, new))

    scores = {t.name: t.score for t in result.tests}
    assert scores == {n: (0 if n == check else p) for n, p in POINTS.items()}, result.tests
    [failed] = [t for t in result.tests if t.name == check]
    assert message in failed.output
    ran = "forbids: " not in message or "It calls" in message  # a forbidden name: never run
    assert ("(seed " in failed.output) == ran


def test_changing_torch_in_the_sandbox_gains_nothing():
    # Written so that the tampering scan does not see it: the reach scan does (__import__), and
    # without it the guard would (torch's functions are compared with what they were).
    cheat = with_mistake(
        "import torch\n",
        "import torch\n"
        "_t = __import__('torch')\n"
        "setattr(_t, 'allclose', lambda *a, **k: True)\n"
        "setattr(_t.testing, 'assert_close', lambda *a, **k: None)\n"
        "setattr(_t.nn.functional, 'elu', lambda x, alpha=1.0: x * 0)\n"
        "setattr(_t.optim, 'Adam', lambda params, **kw: None)\n",
    )
    cheat = cheat.replace("vh = v / (1 - self.b2**self.t)", "vh = v")  # and a real mistake

    result = grade(cheat)

    assert {t.name: t.score for t in result.tests} == dict.fromkeys(POINTS, 0)
    assert "reaches for __import__ (nn.py, line 2)" in result.tests[0].output
    assert "Reaches for the checking machinery: __import__ (nn.py, line 2)" in result.log


def test_changing_torch_where_no_scan_looks_is_seen_by_the_guard():
    # type(x).clone is torch.Tensor.clone, but no scan of the source can tell
    cheat = with_mistake(
        "def elu(x, alpha=1.0):\n",
        "def elu(x, alpha=1.0):\n    type(x).clone = lambda self: self * 0 + 1\n",
    )

    result = grade(cheat)

    assert {t.name: t.score for t in result.tests} == dict.fromkeys(POINTS, 0)
    assert "at run time changes Tensor.clone at run time" in result.tests[0].output
    assert "Reported by the sandbox's guard: changes Tensor.clone at run time" in result.log


def test_code_that_changes_torch_or_the_checks_scores_zero_on_every_check():
    cheat = with_mistake(
        "import torch\n",
        "import torch\nimport sys\nfrom torch import nn\n"
        "torch.backends.cudnn.deterministic = True\n"  # a setting: allowed
        "nn.Module.named_parameters = lambda self: iter(())\n"
        "sys.modules['probes'] = None\n",
    )

    result = grade(cheat)

    assert {t.name: t.score for t in result.tests} == dict.fromkeys(POINTS, 0)
    message = result.tests[0].output
    assert "Your code changes sys.modules (nn.py, line 6); torch.nn.Module.named_parameters" in (
        message
    )
    assert "torch.backends" not in message


# No sandbox needed


def test_forbidden_uses_see_through_aliases():
    source = b"""
import torch.nn.functional as F
from torch.nn import ELU as Activation
from torch import optim
def f(x):
    return F.elu(x) + Activation()(x)
def g(params):
    return optim.Adam(params)
"""
    uses = checks.forbidden_uses(
        {"nn.py": source}, ("torch.nn.functional.elu", "torch.nn.ELU", "torch.optim.Adam")
    )

    assert uses == [
        "torch.nn.ELU (nn.py, line 3)",
        "torch.nn.ELU (nn.py, line 6)",
        "torch.nn.functional.elu (nn.py, line 6)",
        "torch.optim.Adam (nn.py, line 8)",
    ]
    assert checks.forbidden_uses({"nn.py": b"import torch\ntorch.relu\n"}, ("torch.nn",)) == []


def test_values_name_the_first_mismatch_and_the_largest_errors():
    check = SPEC.checks[0]
    want = torch.tensor([[1.0, 2.0], [3.0, 4.0]])

    same = checks.compare(check, {"out": want}, {"out": want + 1e-7})
    values = checks.compare(check, {"out": want}, {"out": torch.tensor([[1.0, 2.0], [3.5, 0.0]])})
    shape = checks.compare(check, {"out": want}, {"out": want.T.reshape(4)})
    dtype = checks.compare(check, {"out": want}, {"out": want.double()})

    assert same == ""
    assert values.startswith("Values of the output: 2 of 4 differ; the first at index [1, 0]: "
                             "expected 3, got 3.5 (largest absolute error 4, largest relative "
                             "error 1;")  # fmt: skip
    assert shape == "Shape of the output: expected (2, 2), got (4,)."
    assert dtype == "Dtype of the output: expected float32, got float64."


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "a", "kind": "magic", "points": 1}, "kind must be one of"),
        ({"name": "a", "kind": "function", "points": 1, "reference": "torch.relu"}, "inputs"),
        ({"name": "a", "kind": "function", "points": 0, "inputs": [[2]]}, "points"),
        ({"name": "a", "kind": "function", "points": 1, "inputs": [[2]]}, "names no reference"),
        ({"name": "a", "kind": "function", "points": 1, "bogus": 1}, "unknown keys"),
        ({"name": "a", "kind": "network", "points": 1, "reference": "ref:f"}, "network must name"),
        (
            {
                "name": "a",
                "kind": "network",
                "points": 1,
                "reference": "torch.relu",
                "network": "Net",
            },
            "reference is in a private file",
        ),
        (
            {
                "name": "a",
                "kind": "network",
                "points": 1,
                "reference": "ref:f",
                "network": "Net",
                "weights": "../w.pt",
            },
            "weights must name a .safetensors file",
        ),
        (
            {
                "name": "a",
                "kind": "network",
                "points": 1,
                "reference": "ref:f",
                "network": "Net",
                "calls": 0,
            },
            "calls must be",
        ),
    ],
)
def test_a_bad_check_is_refused_with_the_reason(entry, message):
    with pytest.raises(checks.CheckError, match=message):
        checks.parse([{"target": "f", **entry}], default_module="nn")


def test_inputs_are_seeded_and_hold_edge_values():
    check = SPEC.checks[0]

    first, again = checks.make_inputs(check), checks.make_inputs(check)

    assert torch.equal(first["arg0"], again["arg0"])
    edges = torch.tensor(checks.EDGE_VALUES, dtype=torch.float32)
    assert torch.equal(first["arg0"].view(-1)[:7], edges)


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
    from autograder.grader import grade_notebook
    from tests.autograder.nbfactory import source_bytes, student_notebook

    return grade_notebook(
        source=source_bytes(), submitted=student_notebook(body), data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120), cell_timeout=30,
        reference_checks=checks.parse_toml(NOTEBOOK_CHECKS),
    )  # fmt: skip


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
        course=course, slug="a1", files={"a1.ipynb": source_bytes(),
                                         "autograder.toml": NOTEBOOK_CHECKS},
    )  # fmt: skip

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

    spec = (b'[[checks]]\nname = "freeze"\nkind = "network"\ntarget = "freeze"\n'
            b'reference = "ref:freeze"\nnetwork = "Net"\nweights = "net.safetensors"\n'
            b"points = 1\n")  # fmt: skip
    files = {"a.ipynb": source_bytes(), "autograder.toml": spec, "ref.py": b""}

    with pytest.raises(ValidationError, match=r"net\.safetensors, which is not here"):
        assignment_import(course=course, slug="a3", files=files)


def test_forbidden_uses_look_only_at_the_checked_definition_when_there_is_one():
    source = b"""
import torch
def relu(x):
    return torch.where(x > 0, x, torch.zeros_like(x))
def forward(x):
    return torch.relu(x)
"""
    files = {"nn.py": source}

    assert checks.forbidden_uses(files, ("torch.relu",), target="relu") == []
    assert checks.forbidden_uses(files, ("torch.relu",), target="forward") == [
        "torch.relu (nn.py, line 6)"
    ]
    assert checks.forbidden_uses(files, ("torch.relu",), target="missing") == [
        "torch.relu (nn.py, line 6)"
    ]


# Found in review: ways around a forbidden API, the reference leaking, outputs that cost the worker


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # bound to a name before the trap is set, then called from the function
        ("def elu(x, alpha=1.0):\n    return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))",
         "_elu = torch.nn.functional.elu\n\n\ndef elu(x, alpha=1.0):\n    return _elu(x, alpha)",
         "forbids: torch.nn.functional.elu (nn.py, line"),
        # the aten operator itself, which no Python-level trap sees
        ("return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))",
         "return torch.ops.aten.elu(x, alpha)", "forbids: torch.nn.functional.elu (nn.py, line"),
        # torch's own class under its module path
        ("class Adam:",
         "from torch.optim.adam import Adam as _A\n\n\nclass Adam(_A):\n    pass\n\n\n"
         "class _Unused:", "forbids: torch.optim.Adam (nn.py, line"),
    ],
)  # fmt: skip
def test_a_forbidden_api_under_another_name_is_still_found(old, new, message):
    result = grade(with_mistake(old, new))

    broken = {t.name for t in result.tests if t.score == 0}
    assert len(broken) == 1 and any(message in t.output for t in result.tests), result.tests


def test_the_checks_reference_solution_never_goes_into_the_sandbox():
    spec = harness.parse(
        b'files = ["nn.py"]\nharness = "t.py"\nprivate = ["ref.py", "helper.py"]\n'
        b'[[tests]]\nname = "t"\npoints = 1\n'
        b'[[checks]]\nname = "c"\nkind = "function"\ntarget = "f"\nreference = "ref:f"\n'
        b"inputs = [[2]]\npoints = 1\n"
    )

    assert spec.sandbox_files == {"t.py", "helper.py"}


def test_an_outputs_file_of_a_million_tensors_is_refused_unread():
    from safetensors.torch import save

    many = save({f"t{i}": torch.zeros(0) for i in range(checks.MAX_OUTPUT_TENSORS + 5)})

    assert checks.load_outputs(many) is None
    assert checks.load_outputs(b"\xff" * 16) is None
    assert checks.load_outputs(save({"out": torch.ones(2)}))["out"].tolist() == [1.0, 1.0]


def test_an_alias_made_in_the_instructors_cell_is_resolved_in_the_students():
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import torch.nn.functional as F\nfrom torch.nn.functional import elu",
            metadata={"nbgrader": {"locked": True, "grade_id": "imports"}},
        ),
        nbformat.v4.new_code_cell("def elu(x):\n    return F.elu(x)"),
    ]

    code = checks.student_code(notebook)

    assert checks.forbidden_uses(code, ("torch.nn.functional.elu",), target="elu") == [
        "torch.nn.functional.elu (the notebook, line 5)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "points", "message"),
    [
        ("def fit_digits(x, y, epochs=150):", "def fit_digits(x, y, epochs=5):", 1,
         "1 of 2 points (all 2 from 0.9)"),
        ("    return model\n", "    return lambda inputs: torch.zeros(len(inputs), 10)\n", 0,
         "0 of 2 points"),
        ("def fit_digits(x, y, epochs=150):", "def fit_digits(x, y, epochs=150):\n"
         "    import time\n    time.sleep(16)", 0, "the budget is 15 s"),
    ],
)  # fmt: skip
def test_a_training_check_scores_held_out_accuracy(old, new, points, message):
    result = grade(with_mistake(old, new))

    [trained] = [t for t in result.tests if t.name == "digits classifier"]
    assert trained.score == points and message in trained.output, trained
    assert {t.name: t.score for t in result.tests if t.name != trained.name} == {
        n: p for n, p in POINTS.items() if n != trained.name
    }


def test_a_student_cannot_import_the_checks_reference_solution():
    spec = harness.parse(
        b'files = ["nn.py"]\n'
        b'[[checks]]\nname = "double"\nkind = "function"\ntarget = "double"\n'
        b'reference = "ref:double"\ninputs = [[3]]\npoints = 1\n'
    )
    reference = b"def double(x):\n    return 2 * x\n"

    def grade_it(source: bytes):
        return grade_python(
            spec=spec, instructor_files={"autograder.toml": b"", "ref.py": reference},
            submitted={"nn.py": source}, data_files={}, limits=Limits(), test_timeout=30,
        )  # fmt: skip

    honest = grade_it(b"def double(x):\n    return x + x\n")
    copied = grade_it(b"from ref import double\n")

    assert honest.score == 1
    assert copied.score == 0 and "No module named 'ref'" in copied.tests[0].output


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

    from autograder.grader import grade_notebook
    from tests.autograder.nbfactory import student_notebook

    source = source_with_check_cell()
    return grade_notebook(
        source=nbformat.writes(source).encode(),
        submitted=student_notebook(body, extra_cells=extra_cells), data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120), cell_timeout=30,
    )  # fmt: skip


def test_a_check_in_a_grade_cell_runs_in_its_place_and_is_scored_once():
    import nbformat

    from autograder import feedback, grader

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
        nbformat.reads(wrong.executed, as_version=4), source=source_with_check_cell(),
        rows=grader.test_dicts(wrong),
    )  # fmt: skip
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
    with pytest.raises(checks.CheckError, match=message):
        checks.cell_checks(source_with_check_cell(cell_source, **overrides))


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


def test_a_python_submission_cannot_reach_a_checks_inputs_before_its_turn():
    # The module is imported when the first check runs: it finds that check's inputs, not the
    # others' (the training set of the digits check above all).
    peek = "import glob\n_SEEN = sorted(glob.glob('check-*-in*'))\n\n\n"
    cheat = with_mistake(
        "def fit_digits(x, y, epochs=150):",
        peek + "def fit_digits(x, y, epochs=150):\n    assert len(_SEEN) <= 1, _SEEN",
    )

    scores = {t.name: t.score for t in grade(cheat).tests}

    assert scores == POINTS


def test_training_feedback_says_what_is_wrong_with_the_predictions():
    import torch

    [check] = checks.parse(
        [{"name": "t", "kind": "training", "target": "fit", "points": 2, "classes": [5, 6, 7, 8, 9],
          "thresholds": [[0.9, 2]], "train_fraction": 0.1, "seed": 5}],
        default_module="nn",
    )  # fmt: skip
    *_, y_test = checks.dataset_split(check)
    n = len(y_test)

    transposed = {"predictions": torch.zeros(5, dtype=torch.int64),
                  "returned_shape": torch.tensor([5, n])}  # fmt: skip
    digits = {"predictions": y_test + 5, "returned_shape": torch.tensor([n])}

    assert checks.training_points(check, transposed)[1] == (
        f"For the {n} held-out inputs (a batch of shape ({n}, 64)) the model should return "
        f"({n}, 5) scores, one row per input, or {n} class numbers; it returned shape (5, {n})."
    )
    assert checks.training_points(check, digits) == (
        0,
        "Its predictions should be class numbers 0-4, as in y_train; they range from 5 to 9.",
    )


# The time budget is kept by the runner, outside the student's process

LAZY = """def fit(X, y):
    import time
    class Lazy:  # returns at once; the training happens when it is first asked to predict
        def __call__(self, inputs):
            time.sleep(8)
            return torch.zeros(len(inputs), 10)
    return Lazy()
"""
BUDGET_CHECK = b"""
[[checks]]
name = "trains in time"
kind = "training"
target = "fit"
time_budget = 1
thresholds = [[0.05, 1]]
points = 1
"""


def test_a_model_that_trains_when_asked_to_predict_is_over_budget_in_a_notebook():
    from autograder.grader import grade_notebook
    from tests.autograder.nbfactory import source_bytes, student_notebook

    result = grade_notebook(
        source=source_bytes(), submitted=student_notebook(extra_cells=["import torch\n" + LAZY]),
        data_files={}, limits=Limits(wall_seconds=120, cpu_seconds=120), cell_timeout=30,
        reference_checks=checks.parse_toml(BUDGET_CHECK),
    )  # fmt: skip

    [check] = [t for t in result.tests if t.name == "trains in time"]
    assert check.score == 0 and "Training and predicting took" in check.output, check.output
    assert "the budget is 1 s" in check.output


def test_a_model_that_trains_when_asked_to_predict_is_over_budget_in_python_files():
    spec = harness.parse(b'files = ["nn.py"]\n' + BUDGET_CHECK)
    result = grade_python(
        spec=spec, instructor_files={}, submitted={"nn.py": b"import torch\n" + LAZY.encode()},
        data_files={}, limits=Limits(wall_seconds=120, cpu_seconds=120), test_timeout=30,
    )  # fmt: skip

    [check] = result.tests
    assert check.score == 0 and "Training and predicting took" in check.output, check.output


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ("import torch\ntorch.relu = None\n", ["torch.relu (f.py, line 2)"]),
        ("from torch import nn\nnn.Module.named_parameters = None\n",
         ["torch.nn.Module.named_parameters (f.py, line 2)"]),
        ("import torch\nF = torch.nn.functional\nF.elu = None\n",
         ["torch.nn.functional.elu (f.py, line 3)"]),
        ("import torch\ndef f():\n    global torch\n    torch.relu = None\n",
         ["torch.relu (f.py, line 4)"]),
        ("import sys\nsys.modules['probes'] = None\n", ["sys.modules (f.py, line 2)"]),
        ("import torch\nsetattr(torch.optim, 'Adam', None)\n", ["torch.optim (f.py, line 2)"]),
        # not torch: a local variable, a rebound name, a setting, the student's own model
        ("import torch.nn.functional as F\ndef relu(x):\n    F = x.clone()\n    F[F < 0] = 0\n",
         []),
        ("from torch.utils import data\ndata = {}\ndata['x'] = 1\n", []),
        ("import torch\ntorch.backends.cudnn.deterministic = True\n"
         "torch._dynamo.config.suppress_errors = True\n", []),
        ("import torch\ndef f(model):\n    model.head = torch.nn.Linear(1, 2)\n"
         "    setattr(model, 'x', 1)\n", []),
    ],
    ids=["plain", "nn alias", "bound path", "global", "sys.modules", "setattr", "local", "rebound",
         "settings", "model"],
)  # fmt: skip
def test_changing_torch_is_found_and_a_variable_of_the_same_name_is_not(code, found):
    assert checks.tampering({"f.py": code.encode()}) == found


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

    from autograder.grader import grade_notebook
    from tests.autograder.nbfactory import student_notebook

    result = grade_notebook(
        source=nbformat.writes(source_with_check_cell()).encode(),
        submitted=student_notebook("    return x", extra_cells=[FORGE]), data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120), cell_timeout=30,
    )  # fmt: skip

    # The runner took the check's own outputs away when its cell ended and put them back last:
    # the forgery (the right answer, written by a later cell) is not what is compared.
    [check] = [t for t in result.tests if t.name == "relu_matches_torch"]
    assert check.score == 0 and "Values of the output" in check.output, check.output


def test_outputs_that_differ_from_what_the_runner_took_are_refused():
    from autograder.grader import _changed_outputs

    signed = {"check-0-out.safetensors": __import__("hashlib").sha256(b"ours").hexdigest()}

    assert _changed_outputs({"check-0-out.safetensors": b"ours"}, signed) == set()
    assert _changed_outputs({"check-0-out.safetensors": b"theirs"}, signed) == {
        "check-0-out.safetensors"
    }
    assert _changed_outputs({"check-1-out.safetensors": b"never taken"}, signed) == {
        "check-1-out.safetensors"
    }


def test_an_implausible_held_out_accuracy_is_pointed_out_to_staff():
    [check] = checks.parse(
        [{"name": "t", "kind": "training", "target": "fit", "points": 2, "classes": [5, 6, 7, 8, 9],
          "thresholds": [[0.9, 2]], "train_fraction": 0.1, "seed": 5}],
        default_module="nn",
    )  # fmt: skip
    *_, y_test = checks.dataset_split(check)

    perfect = checks.implausible(check, {"predictions": y_test.clone()})
    plausible = checks.implausible(check, {"predictions": torch.where(
        torch.arange(len(y_test)) % 10 == 0, (y_test + 1) % 5, y_test)})  # fmt: skip

    assert perfect and "read the submission" in perfect[0]
    assert plausible == []
