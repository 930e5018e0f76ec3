"""A forbidden API is refused however the student's code got hold of it: a reference taken before
the check by a name the source scan cannot read (``getattr`` on a list's item, a name built at run
time) runs the trap too, since the guard traps the code of torch's Python functions for the
check, not only their names; and an optimizer's implementations (``_single_tensor_adam``) are
relatives of the optimizer."""

from __future__ import annotations

from autograder.checks.parsing import parse
from tests.autograder.test_guard import run_check

[ADAM] = parse(
    [
        {
            "name": "Adam",
            "kind": "optimizer",
            "target": "Adam",
            "reference": "torch.optim.Adam",
            "init": {"lr": 0.01, "betas": [0.8, 0.95], "eps": 0.1},
            "inputs": [[3, 4], [5]],
            "steps": 3,
            "forbid": ["torch.optim.Adam"],
            "points": 1,
        }
    ],
    default_module="student",
)
HEAD = """import torch
import torch.optim.adam
M = [torch.optim][0]
"""
OPTIMIZER = """
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        params = list(params)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})
        self.inner = HELD(params, lr=lr, betas=betas, eps=eps)

    def step(self):
        self.inner.step()
"""


def test_a_forbidden_class_held_from_before_the_check_is_refused(tmp_path):
    # the real class kept, a harmless one put in its place in torch.optim
    student = (
        HEAD
        + (
            "HELD = getattr(M, 'Ad' + 'am'[:])\nclass Stand(torch.optim.Optimizer):\n    pass\n"
            "setattr(M, 'Ad' + 'am'[:], Stand)\n"
        )
        + OPTIMIZER
    )

    said, _, vouched = run_check(tmp_path, student, check=ADAM)

    assert vouched is None and said.startswith("FAILED:"), said
    assert "changes torch.optim.Adam at run time" in said or "forbids" in said


def test_an_implementation_reached_through_globals_is_a_relative_and_refused(tmp_path):
    student = HEAD + (
        "IMPL = getattr(M, 'Adam').__init__.__globals__['_single_' + 'tensor_adam']\n"
        "class Adam(torch.optim.Optimizer):\n"
        "    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):\n"
        "        super().__init__(params, {'lr': lr, 'betas': betas, 'eps': eps})\n"
        "    @torch.no_grad()\n    def step(self):\n"
        "        for g in self.param_groups:\n"
        "            ps = list(g['params'])\n"
        "            for p in ps:\n"
        "                s = self.state[p]\n"
        "                if not s:\n"
        "                    s.update(step=torch.tensor(0.0), m=torch.zeros_like(p),\n"
        "                             v=torch.zeros_like(p))\n"
        "            st = [self.state[p] for p in ps]\n"
        "            IMPL(ps, [p.grad for p in ps], [s['m'] for s in st], [s['v'] for s in st],\n"
        "                 [], [s['step'] for s in st],\n"
        "                 None, None, amsgrad=False, has_complex=False, beta1=g['betas'][0],\n"
        "                 beta2=g['betas'][1], lr=g['lr'], weight_decay=0, eps=g['eps'],\n"
        "                 maximize=False, capturable=False, differentiable=False,\n"
        "                 decoupled_weight_decay=False)\n"
    )

    said, _, vouched = run_check(tmp_path, student, check=ADAM)

    assert vouched is None
    assert said == (
        "FAILED: It calls torch.optim.adam._single_tensor_adam (a relative of torch.optim.Adam), "
        "which this check forbids."
    )
