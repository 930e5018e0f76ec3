"""What torch itself changes while honest code runs is not a finding: ``torch.save`` (pickle
caches ``__slotnames__`` on torch.Tensor) and ``torch.compile`` (it replaces nn.Module's
constructor with its own and marks the class) leave the checks trusted and the outputs vouched
for. A change of the same names by the student's code still is a finding."""

from __future__ import annotations

from tests.autograder.test_guard import HONEST, run_check

SAVE = """
net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())
torch.save(net.state_dict(), "weights.pt")
net.load_state_dict(torch.load("weights.pt"))
"""
COMPILE = """
@torch.compile(backend="eager")
def double(x):
    return x * 2
double(torch.randn(3))
"""


def test_saving_and_compiling_are_not_findings(tmp_path):
    said, found, vouched = run_check(tmp_path, HONEST + SAVE + COMPILE)

    assert (said, found) == ("", []) and vouched is not None


def test_the_same_names_changed_by_the_student_are(tmp_path):
    student = HONEST + (
        "def patched_init(self, *a, **k):\n    pass\n"
        "torch.nn.Module.__init__ = patched_init\ntorch.nn.Module.___needs_generation_tag_patch = "
        "print\n"
    )

    _, found, _ = run_check(tmp_path, student)

    assert "changes Module.__init__ at run time" in found
    assert "changes Module.___needs_generation_tag_patch at run time" in found
