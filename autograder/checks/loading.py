"""Loading a check's reference: a dotted path into torch, or an attribute of one of the
assignment's private files (the instructor's reference solution), loaded here in the trusted
worker, never in the sandbox."""

from __future__ import annotations

import importlib
import importlib.util
import tempfile
from pathlib import Path

from autograder.checks.spec import CheckError


def resolve(dotted: str, private: dict[str, bytes]):
    """``torch.nn.functional.elu``, or ``file:attribute`` of one of the assignment's private
    files (the instructor's reference solution), loaded under a name of its own."""
    if ":" in dotted:
        module_name, _, attr = dotted.partition(":")
        content = private.get(f"{module_name}.py")
        if content is None:
            raise CheckError(f"reference {dotted}: there is no private file {module_name}.py.")
        return getattr(_load_private(module_name, content), attr)
    module_name, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        owner_name, _, cls = module_name.rpartition(".")
        return getattr(getattr(importlib.import_module(owner_name), cls), attr)


def _load_private(module_name: str, content: bytes):
    with tempfile.TemporaryDirectory(prefix="reference-") as folder:
        path = Path(folder) / f"{module_name}.py"
        path.write_bytes(content)
        spec = importlib.util.spec_from_file_location(f"_reference_{module_name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module
