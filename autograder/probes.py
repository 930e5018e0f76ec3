"""Probes: run the student's function, module, optimizer, scheduler, network or training
function on the inputs the worker made, and return what came out. Copied into the sandbox and run
there in the student's process, inside the guard (``guard.py``, which imports this and seals both
away before any student code runs); it imports nothing from the project. The worker puts the
reference through the same functions, outside the sandbox.

Why the probes are here and not in the check kinds (``autograder/checks/kinds/``): this file is
copied into the sandbox on its own (``execution.PROBES``), where the ``autograder`` package does
not exist, so it cannot import a kind. Its table ``PROBES`` is the one place in the sandbox that
knows what runs a check; a kind names its probe there (``Kind.probe``), and the spec carries that
name (``probe``), so nothing here switches on a kind's name. A new kind that runs its object as
an existing probe does touches nothing here; one that needs a new procedure adds it and its line
in ``PROBES``.

Nothing is compared here: the worker computes the PyTorch reference itself and compares, so a
student's code that changes ``torch`` here (``torch.allclose = lambda *a: True``) changes only its
own outputs. Inputs and outputs are safetensors (no pickle); the outputs carry an attestation
(``attestation``) that the worker checks (``attested``).
"""

import contextlib
import hashlib
import hmac
import importlib
import json
import time

import torch
from safetensors.torch import load

# What the probes read of torch and the clock, taken when this module is first imported: before
# any student code runs (the runners seal the guard first), so code that later replaces
# Tensor.requires_grad or time.monotonic does not change it here.
_GET = object.__getattribute__  # past a class's own __getattribute__ or named_parameters
_REQUIRES_GRAD = torch._C.TensorBase.requires_grad.__get__
_IS_INFERENCE = torch._C.TensorBase.is_inference
_MONOTONIC = time.monotonic  # the training probe's clock (the runner keeps one of its own too)
PLAIN = (torch.Tensor, torch.nn.Parameter)


class ForbiddenAPI(BaseException):
    """Raised by a trap (``except Exception`` in the student's code does not swallow it)."""


class ProbeError(Exception):
    """The student's object is not what the check needs; the message says why."""


class CheckFailed(AssertionError):
    """What a check raises in the sandbox: its own finding, for the student to read."""


def run(check: dict, inputs: dict, *, around=None) -> dict:
    """Run one check's probe on the student's object; its outputs. ``around``: the guard's
    context (traps, a dispatch mode, the operator recorder) for the student's code, whose
    ``called`` lists the forbidden APIs it reached."""
    torch.manual_seed(check["seed"])
    target = resolve(check["target"])
    for name, label in check.get("forbid", {}).items():
        if _is_or_inherits(target, _lookup(name)):
            raise ProbeError(f"It calls {label}, which this check forbids.")
    if "network" in check:  # the network it takes: the student's module names it
        check = {**check, "network_class": resolve(check["network"])}
    with around if around is not None else contextlib.nullcontext():
        try:
            outputs = PROBES[check["probe"]](target, inputs, check)
        except BaseException:
            if around is None or not around.mode.called:  # the student's own error: theirs
                raise
            return {}
    return {k: v.detach().contiguous().cpu() for k, v in outputs.items()}


def attestation(key: bytes, spec: dict, inputs: bytes, outputs: dict) -> str:
    """What vouches that the guard made ``outputs`` from ``inputs`` for ``spec``: an HMAC under
    the key the runner gave the guard before the student's code ran."""
    return hmac.new(key, _statement(spec, inputs, outputs), hashlib.sha256).hexdigest()


def attested(keys, spec: dict, inputs: bytes, outputs: bytes) -> dict | None:
    """The tensors of ``outputs`` (a safetensors file) if one of ``keys`` vouches for them."""
    try:
        header = json.loads(outputs[8 : 8 + int.from_bytes(outputs[:8], "little")])
        claimed = str(header.get("__metadata__", {}).get("attestation", ""))
        tensors = load(outputs)
    except Exception:
        return None
    statement = _statement(json.loads(json.dumps(spec)), inputs, tensors)
    for key in keys:
        expected = hmac.new(str(key).encode(), statement, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, claimed):
            return tensors
    return None


def _statement(spec: dict, inputs: bytes, outputs: dict) -> bytes:
    digest = hashlib.sha256()
    for name in sorted(outputs):
        tensor = outputs[name]
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}:".encode())
        digest.update(tensor.detach().contiguous().cpu().view(-1).view(torch.uint8).numpy())
    parts = {
        "spec": hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest(),
        "inputs": hashlib.sha256(inputs).hexdigest(),
        "outputs": digest.hexdigest(),
    }
    return json.dumps(parts, sort_keys=True).encode()


def _lookup(dotted: str):
    owner_name, _, attr = dotted.rpartition(".")
    try:
        return getattr(import_owner(owner_name), attr)
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


def resolve(target: str):
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ProbeError(f"{module_name}.py has no {attr}.") from None


def import_owner(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:  # a class such as torch.Tensor
        module_name, _, cls = name.rpartition(".")
        return getattr(importlib.import_module(module_name), cls)


def _tensor(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ProbeError(f"{what} is a {type(value).__name__}, not a torch.Tensor.")
    if type(value) not in PLAIN:  # its own __torch_function__ would answer for torch's methods
        raise ProbeError(f"{what} is a {type(value).__name__}: return a plain torch.Tensor.")
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


# Each probe by the name a kind gives (``Kind.probe``) and the spec carries (``probe``).
PROBES = {
    "function": function,
    "module": module,
    "optimizer": optimizer,
    "scheduler": scheduler,
    "statistical": statistical,
    "training": training,
    "network": network,
}
