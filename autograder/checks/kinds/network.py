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

    # The class its target takes an instance of, the data file of its weights, whether it starts
    # frozen, how often the target is called, the shape of a probe of its output, and the keyword
    # arguments of each case (else kwargs, once).
    fields = {"network": "", "weights": "", "frozen": False, "calls": 1, "forward": (), "cases": ()}

    def parse(self, values: dict, name: str) -> None:
        options = values["options"]
        network, weights = str(options["network"]), str(options["weights"])
        if not network.isidentifier():
            raise CheckError(
                f"check {name!r}: network must name the class (defined in both modules)."
            )
        if ":" not in values["reference"]:
            raise CheckError(f"check {name!r}: a network check's reference is in a private file.")
        if weights and (not weights.endswith(".safetensors") or "/" in weights):
            raise CheckError(f"check {name!r}: weights must name a .safetensors file beside it.")
        calls = options["calls"]
        if not isinstance(calls, int) or not 1 <= calls <= 20:
            raise CheckError(f"check {name!r}: calls must be a whole number, 1-20.")
        if not isinstance(options["frozen"], bool):
            raise CheckError(f"check {name!r}: frozen is true or false.")
        options["forward"] = tuple(int(n) for n in options["forward"])
        cases = options["cases"]  # a list from TOML; the default, a tuple
        if (
            not isinstance(cases, list | tuple)
            or not all(isinstance(c, dict) for c in cases)
            or len(cases) > 8
        ):
            raise CheckError(
                f"check {name!r}: cases must be a list of up to 8 tables of arguments."
            )
        options["cases"] = tuple(cases)

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        tensors = {f"arg{i}": seeded.randn(shape) for i, shape in enumerate(check.inputs)}
        if check.options["forward"]:
            tensors["forward"] = seeded.randn(check.options["forward"])
        if check.options["weights"]:
            tensors.update(_weights(check, {**(data or {}), **(private or {})}))
        return tensors

    def data_files(self, check: Check) -> set[str]:
        return {check.options["weights"]} if check.options["weights"] else set()

    def spec(self, check: Check) -> dict:
        options = check.options
        return {
            "calls": options["calls"],
            "frozen": options["frozen"],
            "cases": list(options["cases"]),
            "network": f"{check.target.partition(':')[0]}:{options['network']}",
        }

    def with_objects(self, check: Check, spec: dict, lookup: Callable[[str], object]) -> dict:
        return {**spec, "network_class": lookup(check.options["network"])}


def _weights(check: Check, files: dict[str, bytes]) -> dict:
    from safetensors.torch import load

    weights = check.options["weights"]
    content = files.get(weights)
    if content is None:
        raise CheckError(f"check {check.name!r}: there is no data file {weights}.")
    return {f"network.{k}": v for k, v in load(content).items()}
