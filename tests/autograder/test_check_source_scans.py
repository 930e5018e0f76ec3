"""Reference checks: the student's source is scanned before anything runs, for forbidden APIs (under
any name, alias or relative) and for code that changes torch or the checks.
"""

from __future__ import annotations

import pytest

from autograder.checks.cells import student_code
from autograder.checks.forbidden import forbidden_uses
from autograder.checks.tampering import tampering
from tests.autograder.reference_checks import grade, with_mistake


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
    uses = forbidden_uses(
        {"nn.py": source}, ("torch.nn.functional.elu", "torch.nn.ELU", "torch.optim.Adam")
    )

    assert uses == [
        "torch.nn.ELU (nn.py, line 3)",
        "torch.nn.ELU (nn.py, line 6)",
        "torch.nn.functional.elu (nn.py, line 6)",
        "torch.optim.Adam (nn.py, line 8)",
    ]
    assert forbidden_uses({"nn.py": b"import torch\ntorch.relu\n"}, ("torch.nn",)) == []


def test_forbidden_uses_look_only_at_the_checked_definition_when_there_is_one():
    source = b"""
import torch
def relu(x):
    return torch.where(x > 0, x, torch.zeros_like(x))
def forward(x):
    return torch.relu(x)
"""
    files = {"nn.py": source}

    assert forbidden_uses(files, ("torch.relu",), target="relu") == []
    assert forbidden_uses(files, ("torch.relu",), target="forward") == [
        "torch.relu (nn.py, line 6)"
    ]
    assert forbidden_uses(files, ("torch.relu",), target="missing") == [
        "torch.relu (nn.py, line 6)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # bound to a name before the trap is set, then called from the function
        (
            "def elu(x, alpha=1.0):\n    return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))",
            "_elu = torch.nn.functional.elu\n\n\ndef elu(x, alpha=1.0):\n    return _elu(x, alpha)",
            "forbids: torch.nn.functional.elu (nn.py, line",
        ),
        # the aten operator itself, which no Python-level trap sees
        (
            "return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))",
            "return torch.ops.aten.elu(x, alpha)",
            "forbids: torch.nn.functional.elu (nn.py, line",
        ),
        # torch's own class under its module path
        (
            "class Adam:",
            "from torch.optim.adam import Adam as _A\n\n\nclass Adam(_A):\n    pass\n\n\n"
            "class _Unused:",
            "forbids: torch.optim.Adam (nn.py, line",
        ),
    ],
)
def test_a_forbidden_api_under_another_name_is_still_found(old, new, message):
    result = grade(with_mistake(old, new))

    broken = {t.name for t in result.tests if t.score == 0}
    assert len(broken) == 1 and any(message in t.output for t in result.tests), result.tests


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

    code = student_code(notebook)

    assert forbidden_uses(code, ("torch.nn.functional.elu",), target="elu") == [
        "torch.nn.functional.elu (the notebook, line 5)"
    ]


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ("import torch\ntorch.relu = None\n", ["torch.relu (f.py, line 2)"]),
        (
            "from torch import nn\nnn.Module.named_parameters = None\n",
            ["torch.nn.Module.named_parameters (f.py, line 2)"],
        ),
        (
            "import torch\nF = torch.nn.functional\nF.elu = None\n",
            ["torch.nn.functional.elu (f.py, line 3)"],
        ),
        (
            "import torch\ndef f():\n    global torch\n    torch.relu = None\n",
            ["torch.relu (f.py, line 4)"],
        ),
        ("import sys\nsys.modules['probes'] = None\n", ["sys.modules (f.py, line 2)"]),
        ("import torch\nsetattr(torch.optim, 'Adam', None)\n", ["torch.optim (f.py, line 2)"]),
        # not torch: a local variable, a rebound name, a setting, the student's own model
        (
            "import torch.nn.functional as F\ndef relu(x):\n    F = x.clone()\n    F[F < 0] = 0\n",
            [],
        ),
        ("from torch.utils import data\ndata = {}\ndata['x'] = 1\n", []),
        (
            "import torch\ntorch.backends.cudnn.deterministic = True\n"
            "torch._dynamo.config.suppress_errors = True\n",
            [],
        ),
        (
            "import torch\ndef f(model):\n    model.head = torch.nn.Linear(1, 2)\n"
            "    setattr(model, 'x', 1)\n",
            [],
        ),
    ],
    ids=[
        "plain",
        "nn alias",
        "bound path",
        "global",
        "sys.modules",
        "setattr",
        "local",
        "rebound",
        "settings",
        "model",
    ],
)
def test_changing_torch_is_found_and_a_variable_of_the_same_name_is_not(code, found):
    assert tampering({"f.py": code.encode()}) == found
