"""``kind = "network"``: a function that takes a given network, such as one that freezes its
lower layers or replaces its head: ``network`` (the class, defined in the student's module and in
the reference's), ``weights`` (a safetensors data file of the assignment), ``frozen`` (start with
every parameter frozen), ``calls`` (call it that many times on the same network), ``forward``
(the shape of an input run through the network it returns), ``inputs`` (shapes of further tensor
arguments), ``kwargs``, or ``cases`` (a list of keyword arguments: each case starts from a fresh
network)."""

from __future__ import annotations

from collections.abc import Callable

from autograder.checks.kinds.base import Kind, Seeded
from autograder.checks.spec import Check, CheckError


class Network(Kind):
    name = "network"
    probe = "network"
    needs_inputs = False

    def parse(self, values: dict, name: str) -> None:
        network, weights = str(values.get("network", "")), str(values.get("weights", ""))
        if not network.isidentifier():
            raise CheckError(
                f"check {name!r}: network must name the class (defined in both modules)."
            )
        if ":" not in values["reference"]:
            raise CheckError(f"check {name!r}: a network check's reference is in a private file.")
        if weights and (not weights.endswith(".safetensors") or "/" in weights):
            raise CheckError(f"check {name!r}: weights must name a .safetensors file beside it.")
        calls = values.get("calls", 1)
        if not isinstance(calls, int) or not 1 <= calls <= 20:
            raise CheckError(f"check {name!r}: calls must be a whole number, 1-20.")
        if not isinstance(values.get("frozen", False), bool):
            raise CheckError(f"check {name!r}: frozen is true or false.")
        values["forward"] = tuple(int(n) for n in values.get("forward", []))
        cases = values.get("cases", [])
        if (
            not isinstance(cases, list)
            or not all(isinstance(c, dict) for c in cases)
            or len(cases) > 8
        ):
            raise CheckError(
                f"check {name!r}: cases must be a list of up to 8 tables of arguments."
            )
        values["cases"] = tuple(cases)

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        tensors = {f"arg{i}": seeded.randn(shape) for i, shape in enumerate(check.inputs)}
        if check.forward:
            tensors["forward"] = seeded.randn(check.forward)
        if check.weights:
            tensors.update(_weights(check, {**(data or {}), **(private or {})}))
        return tensors

    def spec(self, check: Check) -> dict:
        return {"network": f"{check.target.partition(':')[0]}:{check.network}"}

    def with_objects(self, check: Check, spec: dict, lookup: Callable[[str], object]) -> dict:
        return {**spec, "network_class": lookup(check.network)}


def _weights(check: Check, files: dict[str, bytes]) -> dict:
    from safetensors.torch import load

    content = files.get(check.weights)
    if content is None:
        raise CheckError(f"check {check.name!r}: there is no data file {check.weights}.")
    return {f"network.{k}": v for k, v in load(content).items()}
