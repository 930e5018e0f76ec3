"""Threads and the checks (torch's dispatch modes and profiler see only the checking thread): a
thread the student's code started is known to run until it ends (not by ``threading``'s list,
which the student's code can empty), so a helper thread still running at a check is a finding;
threads that a library starts for its own work (a DataLoader's queues) are not the student's."""

from __future__ import annotations

from tests.autograder.test_guard import HONEST, run_check

HELPER = """
import queue
T = [torch][0]
th = T.utils.data.dataloader.threading
E = getattr(T.nn.functional, ''.join(['u', 'l', 'e'][::-1]))
requests, replies = queue.Queue(), queue.Queue()
def serve():
    while True:
        x, a = requests.get()
        replies.put(E(x, a))
th.Thread(target=serve, daemon=True).start()
th.enumerate = lambda: [th.current_thread()]
th._active.clear()
def elu(x, alpha=1.0):
    requests.put((x, alpha))
    return replies.get(timeout=20)
"""


def test_a_helper_thread_hidden_from_threading_is_still_a_finding(tmp_path):
    said, found, vouched = run_check(tmp_path, HONEST + HELPER)

    assert vouched is None and said.startswith("FAILED:")
    assert any(
        "a thread it started (student.py, line 15) still runs while a check runs" in f
        for f in found
    ), found


DATA = """
from torch.utils.data import DataLoader, TensorDataset
data = TensorDataset(torch.randn(64, 3), torch.randn(64))
for xb, yb in DataLoader(data, batch_size=16, num_workers=2):
    pass
loader = DataLoader(data, batch_size=16, num_workers=2, persistent_workers=True)
for xb, yb in loader:
    pass
"""


def test_a_dataloader_with_workers_is_ordinary_code(tmp_path):
    said, found, vouched = run_check(tmp_path, HONEST + DATA)

    assert (said, found) == ("", []) and vouched is not None
