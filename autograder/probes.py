"""Probes: run the student's function, module, optimizer or scheduler on the inputs the worker made,
and save what came out. Copied into the sandbox and run there by pyrunner's tester, in the
student's process; it imports nothing from the project. The worker puts the PyTorch reference
through the same functions (``KINDS``), outside the sandbox.

Nothing is compared here: the worker computes the PyTorch reference itself and compares, so a
student's code that changes ``torch`` here (``torch.allclose = lambda *a: True``) changes only its
own outputs. Inputs and outputs are safetensors files (no pickle).

    probes.run(check)   # check: one entry of the runner spec's "probe" (see autograder.checks)

Forbidden APIs are replaced, for the duration of the check, by a trap that records the call and
raises ``ForbiddenAPI`` (a BaseException, so ``except Exception`` in the student's code does not
swallow it).
"""

import contextlib
import importlib
import sys
import time

import torch
from safetensors.torch import load_file, save_file
from torch.utils._python_dispatch import TorchDispatchMode

# What the probes read of torch and the clock, taken when this module is first imported: before
# any student code runs (both runners import it first), so code that later replaces
# Tensor.requires_grad or time.monotonic does not change it here.
_GET = object.__getattribute__  # past a class's own __getattribute__ or named_parameters
_REQUIRES_GRAD = torch._C.TensorBase.requires_grad.__get__
_IS_INFERENCE = torch._C.TensorBase.is_inference
_MONOTONIC = time.monotonic  # the training probe's clock (the runner keeps one of its own too)


class ForbiddenAPI(BaseException):
    pass


class ProbeError(Exception):
    """The student's object is not what the check needs; the message says why."""


class CheckFailed(AssertionError):
    """What ``checked`` raises: the check's own finding, for the student to read."""


def checked(check: dict) -> None:
    """``run``, with what went wrong raised as ``CheckFailed`` (pyrunner's tester and the check
    cells appended to a notebook call this)."""
    try:
        why = run(check)
    except ProbeError as exc:
        raise CheckFailed(str(exc)) from None
    if why.startswith("FORBIDDEN:"):
        raise CheckFailed(f"It calls {why[len('FORBIDDEN:') :]}, which this check forbids.")


def run(check: dict) -> str:
    """Run one check; returns "" or why it could not produce outputs (the student's fault)."""
    torch.manual_seed(check["seed"])
    inputs = load_file(check["inputs"])
    target = _resolve(check["target"])
    forbidden = check.get("forbid", [])
    called: list[str] = []
    for name in forbidden:
        if _is_or_inherits(target, _lookup(name)):
            return f"FORBIDDEN:{name}"
    if check["kind"] == "network":  # the network it takes: the student's module names it
        check = {**check, "network_class": _resolve(check["network"])}
    restore = [_trap(name, called) for name in forbidden]
    ops = _ForbiddenOps(forbidden, called)
    try:
        with ops if ops.ops else contextlib.nullcontext():  # a mode costs every operation
            outputs = KINDS[check["kind"]](target, inputs, check)
    except BaseException:
        if not called:  # the student's own error: theirs to read
            raise
    finally:
        for undo in reversed(restore):
            undo()
    if called:
        return f"FORBIDDEN:{called[0]}"
    save_file({k: v.detach().contiguous().cpu() for k, v in outputs.items()}, check["outputs"])
    return ""


def _lookup(dotted: str):
    owner_name, _, attr = dotted.rpartition(".")
    try:
        return getattr(_import_owner(owner_name), attr)
    except (ImportError, AttributeError, ValueError):
        return None


def _is_or_inherits(target, forbidden) -> bool:
    """``target`` is the forbidden object under another name, or a class built on it."""
    if forbidden is None:
        return False
    if target is forbidden:
        return True
    both_classes = isinstance(target, type) and isinstance(forbidden, type)
    return both_classes and issubclass(target, forbidden)


# What a forbidden function ends up as below Python (aten operators), beyond its own name: a
# reference taken before the trap was set, or torch.ops.aten.relu, still arrives here.
ATEN_ALSO = {
    "batch_norm": ("native_batch_norm", "_native_batch_norm_legit",
                   "_native_batch_norm_legit_no_training", "cudnn_batch_norm"),
    "dropout": ("native_dropout",),
    "expit": ("sigmoid",),
}  # fmt: skip


class _ForbiddenOps(TorchDispatchMode):
    """Refuses the aten operators of the forbidden functions while the check runs."""

    def __init__(self, forbidden, called: list[str]) -> None:
        super().__init__()
        self.called, self.ops = called, {}
        for dotted in forbidden:
            name = dotted.rpartition(".")[2]
            for op in (name, *ATEN_ALSO.get(name, ())):
                if hasattr(torch.ops.aten, op):
                    self.ops[op] = dotted

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in self.ops:
            self.called.append(self.ops[name])
            raise ForbiddenAPI(f"{self.ops[name]} is not allowed in this exercise")
        return func(*args, **(kwargs or {}))


def _resolve(target: str):
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ProbeError(f"{module_name}.py has no {attr}.") from None


def _trap(dotted: str, called: list[str]):
    """Replace ``dotted`` (e.g. torch.nn.functional.elu) by a trap; return how to undo it."""
    owner_name, _, attr = dotted.rpartition(".")
    try:
        owner = _import_owner(owner_name)
        original = getattr(owner, attr)
    except (ImportError, AttributeError):
        return lambda: None

    def trap(*args, **kwargs):
        called.append(dotted)
        raise ForbiddenAPI(f"{dotted} is not allowed in this exercise")

    setattr(owner, attr, trap)
    return lambda: setattr(owner, attr, original)


def _import_owner(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:  # a class such as torch.Tensor
        module_name, _, cls = name.rpartition(".")
        return getattr(importlib.import_module(module_name), cls)


def _tensor(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ProbeError(f"{what} is a {type(value).__name__}, not a torch.Tensor.")
    return value


def _grad_out(out: torch.Tensor, check: dict) -> torch.Tensor:
    """The upstream gradient: seeded and shaped like the output, so the same on both sides for
    the same output shape (a wrong shape fails the comparison anyway)."""
    generator = torch.Generator().manual_seed(check["seed"] + 1)
    grad = torch.randn(tuple(out.shape), generator=generator, dtype=torch.float64)
    return grad.to(dtype=out.dtype, device=out.device)


def function(target, inputs: dict, check: dict) -> dict:
    args = [inputs[f"arg{i}"] for i in range(check["arity"])]
    if check.get("gradients"):
        args = [a.clone().requires_grad_(a.is_floating_point()) for a in args]
    out = _tensor(target(*args, **check.get("kwargs", {})), "What it returned")
    outputs = {"out": out.detach().clone()}
    if check.get("gradients"):
        if not out.requires_grad:
            raise ProbeError("Its output does not depend on its input through autograd.")
        out.backward(_grad_out(out, check))
        for i, arg in enumerate(args):
            if arg.requires_grad:
                grad = arg.grad if arg.grad is not None else torch.zeros_like(arg)
                outputs[f"grad_arg{i}"] = grad
    return outputs


def module(target, inputs: dict, check: dict) -> dict:
    if not isinstance(target, type):
        raise ProbeError(f"{check['target'].partition(':')[2]} is not a class.")
    instance = target(**check.get("init", {}))
    if not callable(instance):
        raise ProbeError("An instance of it cannot be called.")
    if isinstance(instance, torch.nn.Module):  # the reference, on the worker's device
        instance.to(device=inputs["x"].device, dtype=inputs["x"].dtype)
    with torch.no_grad():
        for name in check.get("parameters", []) + check.get("buffers", []):
            value = getattr(instance, name, None)
            if not isinstance(value, torch.Tensor):
                raise ProbeError(f"It has no tensor attribute {name!r}.")
            if value.shape != inputs[f"state.{name}"].shape:
                raise ProbeError(
                    f"Its {name} has shape {tuple(value.shape)}; expected "
                    f"{tuple(inputs[f'state.{name}'].shape)}."
                )
            value.copy_(inputs[f"state.{name}"])
    outputs = {}
    if hasattr(instance, "train"):
        instance.train()
    x = inputs["x"].clone().requires_grad_(True)
    out = _tensor(instance(x), "What it returned in training mode")
    outputs["train.out"] = out.detach().clone()
    if check.get("gradients"):
        out.backward(_grad_out(out, check))
        outputs["train.grad.x"] = x.grad if x.grad is not None else torch.zeros_like(x)
        for name in check.get("parameters", []):
            grad = getattr(instance, name).grad
            outputs[f"train.grad.{name}"] = grad if grad is not None else torch.zeros_like(x[:0])
    for name in check.get("buffers", []):
        outputs[f"train.{name}"] = getattr(instance, name).detach().clone()
    if "eval" in check.get("modes", ["train", "eval"]):
        if not hasattr(instance, "eval"):
            raise ProbeError("It has no eval() to switch to evaluation mode.")
        instance.eval()
        with torch.no_grad():
            out = _tensor(instance(inputs["x_eval"]), "What it returned in evaluation mode")
        outputs["eval.out"] = out.detach().clone()
    return outputs


def optimizer(target, inputs: dict, check: dict) -> dict:
    count = check["parameters_count"]
    params = [inputs[f"param{i}"].clone().requires_grad_(True) for i in range(count)]
    opt = target(params, **check.get("init", {}))
    outputs = {}
    for step in range(check["steps"]):
        for i, param in enumerate(params):
            param.grad = inputs[f"grad{step}.{i}"].clone()
        opt.step()
        for i, param in enumerate(params):
            outputs[f"step{step}.param{i}"] = param.detach().clone()
    return outputs


class _Carrier(torch.optim.Optimizer):
    """Carries the learning rate a schedule sets; not torch.optim.SGD, which a check may forbid."""

    def __init__(self, params, lr: float) -> None:
        super().__init__(params, {"lr": lr})

    def step(self, closure=None) -> None:
        return None


def scheduler(target, inputs: dict, check: dict) -> dict:
    opt = _Carrier([torch.zeros(1, requires_grad=True)], lr=check["lr"])
    schedule = target(opt, **check.get("init", {}))
    lrs = []
    metrics = check.get("metrics") or []  # a validation loss per epoch, for plateau schedules
    for epoch in range(check["epochs"]):
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        if metrics:
            schedule.step(metrics[epoch % len(metrics)])
        else:
            schedule.step()
    return {"lr": torch.tensor(lrs, dtype=torch.float64)}


def statistical(target, inputs: dict, check: dict) -> dict:
    """Random behaviour (dropout): two outputs in training mode and one in evaluation mode, from
    a class (``init``, train()/eval()) or a function (``kwargs`` and ``training=``)."""
    x = inputs["x"]
    if isinstance(target, type):
        instance = target(**check.get("init", {}))
        instance.train()
        first, second = instance(x), instance(x)
        instance.eval()
        evaluated = instance(x)
    else:
        kwargs = check.get("kwargs", {})
        first, second = target(x, training=True, **kwargs), target(x, training=True, **kwargs)
        evaluated = target(x, training=False, **kwargs)
    return {  # copies: the same tensor twice (p = 0, or eval) cannot be saved as two
        "train.out": _tensor(first, "What it returned in training mode").detach().clone(),
        "train.again": _tensor(second, "What it returned in training mode").detach().clone(),
        "eval.out": _tensor(evaluated, "What it returned in evaluation mode").detach().clone(),
    }


def training(target, inputs: dict, check: dict) -> dict:
    """Train with the student's function within the time budget, then predict the held-out
    inputs (their labels stay with the worker)."""
    started = _MONOTONIC()
    model = target(inputs["X_train"], inputs["y_train"])
    took = _MONOTONIC() - started
    if took > check["time_budget"]:
        raise ProbeError(f"Training took {took:.1f} s; the budget is {check['time_budget']:g} s.")
    if not callable(model):
        raise ProbeError(f"It returned a {type(model).__name__}, not a model to call.")
    if hasattr(model, "eval"):
        model.eval()
    with torch.no_grad():
        out = _tensor(model(inputs["X_test"]), "What the trained model returned")
    predictions = out.argmax(dim=1) if out.dim() == 2 else out
    return {
        "predictions": predictions.detach().to(torch.int64).clone(),
        "returned_shape": torch.tensor(tuple(out.shape), dtype=torch.int64),
    }


def _flag(value: bool) -> torch.Tensor:
    return torch.tensor(bool(value), dtype=torch.uint8)


def network(target, inputs: dict, check: dict) -> dict:
    """A function that takes a given network (frozen layers, a new head, cached features): for
    each case (its keyword arguments), build the network from the check's weights, call the
    function ``calls`` times, and after each call record what it returned: a tensor (and whether
    it tracks gradients, or is an inference tensor), or the network's parameters, which of them
    are trained, and its output on ``forward``."""
    outputs = {}
    cases = check.get("cases") or [check.get("kwargs", {})]
    for number, kwargs in enumerate(cases, start=1):
        case = f"case{number}." if len(cases) > 1 else ""
        net = _network(inputs, check)
        args = [inputs[f"arg{i}"] for i in range(check["arity"])]
        for call in range(check.get("calls", 1)):
            prefix = case + (f"call{call + 1}." if check.get("calls", 1) > 1 else "")
            torch.manual_seed(check["seed"] + call)  # a new layer starts the same on both sides
            returned = target(net, *args, **kwargs)
            if isinstance(returned, torch.Tensor):
                outputs[f"{prefix}out"] = returned.detach().clone()
                outputs[f"{prefix}tracks_grad"] = _flag(_REQUIRES_GRAD(returned))
                outputs[f"{prefix}inference"] = _flag(_IS_INFERENCE(returned))
                continue
            net = net if returned is None else returned
            outputs.update(_network_state(net, inputs, prefix))
    return outputs


def _network(inputs: dict, check: dict):
    net = check["network_class"](**check.get("init", {}))
    if not isinstance(net, torch.nn.Module):
        raise ProbeError(f"{check['network']} does not build a torch.nn.Module.")
    net.to(next((v.device for v in inputs.values()), torch.device("cpu")))
    weights = {k[len("network.") :]: v for k, v in inputs.items() if k.startswith("network.")}
    if weights:
        try:
            net.load_state_dict(weights)
        except (RuntimeError, KeyError) as exc:
            raise ProbeError(f"The given weights do not fit {check['network']}: {exc}") from None
    if check.get("frozen"):
        net.requires_grad_(False)
    return net


def _parameters_of(module, prefix: str = "", seen=None):
    """(name, parameter) as ``named_parameters`` gives them, read from each module's own
    ``_parameters`` and ``_modules``, so that a class swapped in to report otherwise does not."""
    seen = set() if seen is None else seen
    for name, param in _GET(module, "_parameters").items():
        if param is not None and id(param) not in seen:
            if not isinstance(param, torch.Tensor):
                raise ProbeError(f"{prefix}{name} is a {type(param).__name__}, not a parameter.")
            seen.add(id(param))
            yield prefix + name, param
    for name, child in _GET(module, "_modules").items():
        if child is not None:
            yield from _parameters_of(child, f"{prefix}{name}.", seen)


def _network_state(net, inputs: dict, prefix: str) -> dict:
    if not isinstance(net, torch.nn.Module):
        raise ProbeError(f"It returned a {type(net).__name__}, not the network.")
    state = {}
    for name, param in _parameters_of(net):
        state[f"{prefix}trainable.{name}"] = _flag(_REQUIRES_GRAD(param))
        state[f"{prefix}param.{name}"] = param.detach().clone()
    if "forward" in inputs:
        was_training = net.training
        net.eval()
        with torch.no_grad():
            out = net(inputs["forward"])
        net.train(was_training)
        state[f"{prefix}forward"] = _tensor(out, "What the network returned").clone()
    return state


KINDS = {
    "function": function, "module": module, "optimizer": optimizer, "scheduler": scheduler,
    "statistical": statistical, "training": training, "network": network,
}  # fmt: skip


if __name__ == "__main__":  # pragma: no cover - for trying a probe by hand
    import json

    print(run(json.loads(sys.argv[1])))
