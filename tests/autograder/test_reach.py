"""Reaching for the checking machinery, found in the source (autograder/reach.py): each way is
named with its line; ordinary deep-learning code is not."""

from __future__ import annotations

import pytest

from autograder import reach

FOUND = {
    "the issue's": ("_p = __import__('probes')\nvars(_p)['_trap'] = None\n", "__import__"),
    "importlib": ("import importlib\nimportlib.import_module('guard')\n", "importlib"),
    "builtins": ("import builtins\nbuiltins.isinstance = None\n", "builtins"),
    "__builtins__": ("__builtins__['len'] = None\n", "__builtins__"),
    "sys.modules": ("import sys\nsys.modules['probes']\n", "sys.modules"),
    "sys.modules through torch": ("import torch\ntorch.sys.modules\n", "torch.sys.modules"),
    "gc": ("import gc\ngc.get_objects()\n", "gc.get_objects"),
    "a frame": ("import sys\nsys._getframe(1).f_locals\n", "sys._getframe"),
    "inspect": ("import inspect\ninspect.stack()\n", "inspect"),
    "inspect's frames": ("from inspect import signature, currentframe\n", "inspect"),
    "a traceback": (
        "try:\n    1 / 0\nexcept Exception as e:\n    e.__traceback__.tb_frame\n",
        "tb_frame",
    ),
    "globals of a function": ("def f(g):\n    return g.__globals__\n", "__globals__"),
    "exec": ("exec('x = 1')\n", "exec"),
    "the dispatch stack": (
        "from torch.utils._python_dispatch import _pop_mode_temporarily\n",
        "torch.utils._python_dispatch",
    ),
    "torch._C": ("import torch\nwith torch._C._DisableTorchDispatch():\n    pass\n", "torch._C"),
    "a computed private name": ("import torch\ngetattr(torch, '_' + 'C')\n", "torch._C"),
    "a name computed at run time": (
        "import torch\ndef f(n):\n    return getattr(torch, n)\n",
        "getattr(torch, <a name computed at run time>)",
    ),
    "a Tensor subclass": (
        "import torch\nclass T(torch.Tensor):\n    pass\n",
        "a subclass of torch.Tensor",
    ),
    "__torch_function__": (
        "class T:\n    def __torch_function__(self, *a):\n        pass\n",
        "__torch_function__",
    ),
    "torch.overrides": ("from torch.overrides import TorchFunctionMode\n", "torch.overrides"),
    "a raw thread": ("import _thread\n", "_thread"),
    "a function's globals by a constant name": (
        "import torch\ng = getattr(torch.optim.Adam.__init__, '__glob' 'als__')\n",
        "__globals__",
    ),
    "a module's __dict__": ("import torch.nn.functional as F\nF.__dict__['elu']\n", "__dict__"),
    "vars of a module": ("import torch\nvars(torch.nn.functional)\n", "vars"),
    "globals as a value": ("g = globals\ng()['x'] = 1\n", "globals"),
    "ctypes": ("import ctypes\n", "ctypes"),
    "the profiler": ("import torch\ntorch.autograd.profiler.profile()\n", "profiler"),
}


@pytest.mark.parametrize("way", list(FOUND))
def test_each_way_to_the_machinery_is_found_with_its_line(way):
    source, what = FOUND[way]

    found = reach.reaches({"nb.py": source.encode()})

    assert any(what in f and "(nb.py, line" in f for f in found), found


HONEST = b"""import gc
import inspect
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from inspect import signature

torch.backends.cudnn.deterministic = True


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        nn.Module.__init__(self)
        self.layer = nn.Linear(3, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.layer(x))


def train(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for m in model.modules():
        assert isinstance(m, nn.Module)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    gc.collect()
    act = getattr(F, "relu")
    assert "x" in signature(train).parameters
    return act(torch.zeros(2)), type(x).__name__


class Config:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)
        self.act = getattr(nn, kwargs.get("act", "ReLU"))()


def ordinary(args, cfg):
    if "model" not in globals():
        print(vars(args), vars(), cfg.__dict__)
    lock = threading.Lock()
    with lock, ThreadPoolExecutor(2) as pool:
        list(pool.map(abs, [-1, 2]))
    try:
        1 / 0
    except ZeroDivisionError as e:
        print(sys.exc_info()[0], e.__traceback__ is not None)
        traceback.print_exc()
    return inspect.getsource(ordinary), inspect.isclass(cfg)
"""


def test_ordinary_deep_learning_code_reaches_for_nothing():
    assert reach.reaches({"nb.py": HONEST}) == []
