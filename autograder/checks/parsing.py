"""Reading the ``[[checks]]`` of an ``autograder.toml`` (beside harness tests, or beside a
notebook) into ``Check`` objects::

    [[checks]]
    name = "ELU"
    kind = "function"                  # a kind in ``registry.KINDS``
    target = "activations:elu"         # module:attribute among the student's files
    reference = "torch.nn.functional.elu"   # a dotted path, or "private_file:attribute"
    points = 1
    inputs = [[4, 5]]                  # function: one shape per positional argument
    dtype = "float64"                  # default float32
    kwargs = {alpha = 1.0}             # function: keyword arguments to both
    gradients = true                   # compare gradients through autograd
    forbid = ["torch.nn.functional.elu", "torch.nn.ELU"]
    seed = 7                           # default: the check's position
    rtol = 1e-5                        # default: by dtype, as torch.testing.assert_close
    atol = 1e-8

Each kind reads the fields of its own (``Kind.parse``); its module's docstring lists them.
"""

from __future__ import annotations

import tomllib

from autograder.checks.registry import KINDS
from autograder.checks.spec import COMMON_FIELDS, DTYPES, Check, CheckError, positive_points


def parse(entries, *, default_module: str) -> tuple[Check, ...]:
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise CheckError("[[checks]] must be a list of tables.")
    return tuple(parse_one(entry, i, default_module) for i, entry in enumerate(entries))


def parse_one(entry, index: int, default_module: str) -> Check:
    """One check's table; its kind reads the fields of its own (``Kind.parse``)."""
    if not isinstance(entry, dict):
        raise CheckError(f"check {index + 1} is not a table.")
    name = str(entry.get("name", "")).strip()
    if not name:
        raise CheckError(f"check {index + 1} has no name.")
    kind = KINDS.get(entry.get("kind")) if isinstance(entry.get("kind"), str) else None
    unknown = set(entry) - COMMON_FIELDS - _kinds_fields()
    if unknown:
        raise CheckError(f"check {name!r}: unknown keys {sorted(unknown)}.")
    if kind is None:
        raise CheckError(f"check {name!r}: kind must be one of {', '.join(KINDS)}.")
    target = str(entry.get("target", ""))
    if ":" not in target:
        target = f"{default_module}:{target}"
    module, _, attr = target.partition(":")
    if not (module.isidentifier() and attr.isidentifier()):
        raise CheckError(f"check {name!r}: target must be module:attribute.")
    dtype = entry.get("dtype", "float32")
    if dtype not in DTYPES:
        raise CheckError(f"check {name!r}: dtype must be one of {', '.join(DTYPES)}.")
    points = positive_points(entry.get("points"))
    if points is None:
        raise CheckError(f"check {name!r} needs points greater than 0.")
    values = {k: v for k, v in entry.items() if k in COMMON_FIELDS}
    values.update(
        index=index,
        name=name,
        kind=kind.name,
        target=target,
        points=points,
        dtype=dtype,
        reference=str(entry.get("reference", "")),
        seed=int(entry.get("seed", index)),
        inputs=tuple(tuple(int(n) for n in shape) for shape in entry.get("inputs", [])),
        forbid=tuple(entry.get("forbid", [])),
        allow=tuple(entry.get("allow", [])),
        options={**kind.fields, **{k: v for k, v in entry.items() if k in kind.fields}},
    )
    if "shapes" in entry:
        raise CheckError(f"check {name!r}: give parameter shapes as inputs.")
    if kind.needs_inputs and not values["inputs"]:
        raise CheckError(f"check {name!r}: inputs must give at least one shape.")
    kind.parse(values, name)
    if kind.has_reference and not values["reference"]:
        raise CheckError(f"check {name!r} names no reference.")
    return Check(**values)


def _kinds_fields() -> set[str]:
    """Every kind's own fields: one of another kind is accepted, and ignored."""
    return set().union(*(kind.fields for kind in KINDS.values()))


def parse_toml(data: bytes, *, default_module: str = "__main__") -> tuple[Check, ...]:
    """The ``[[checks]]`` of an ``autograder.toml`` that sits beside a notebook (their targets
    are the notebook's variables)."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CheckError(f"not valid TOML: {exc}") from exc
    unknown = set(raw) - {"checks", "accepted"}  # [[accepted]]: mutants (autograder.strength)
    if unknown:
        raise CheckError(
            f"beside a notebook only [[checks]] and [[accepted]] are read, not {sorted(unknown)}."
        )
    found = parse(raw.get("checks"), default_module=default_module)
    names = [c.name for c in found]
    if len(set(names)) != len(names):
        raise CheckError("check names must be unique.")
    return found


def reference_files(found) -> set[str]:
    """The instructor's files that ``found`` checks take their references from ("file:attr"):
    kept from students, never put into the sandbox."""
    return {f"{c.reference.partition(':')[0]}.py" for c in found if ":" in c.reference}


def weights_files(found) -> set[str]:
    """The data files that ``found`` checks load here (``Kind.data_files``: a network's
    weights)."""
    return {name for c in found for name in KINDS[c.kind].data_files(c)}
