"""The course's shipped assignments (courseapp/demo/assignments/*): their reference solution, the
same with mistakes made in it, and grading either through the real sandbox."""

from __future__ import annotations

import json
from pathlib import Path

from autograder import notebooks
from autograder.checks.cells import cell_checks
from autograder.checks.parsing import parse_toml
from autograder.notebook_pipeline import grade_notebook
from autograder.sandbox import Limits

FOLDER = Path(__file__).resolve().parents[2] / "courseapp" / "demo" / "assignments"


class Shipped:
    def __init__(self, name: str) -> None:
        folder = FOLDER / name
        self.source = (folder / f"{name}.ipynb").read_bytes()
        spec = folder / "autograder.toml"
        self.checks = parse_toml(spec.read_bytes()) if spec.exists() else ()
        self.private = {f.name: f.read_bytes() for f in folder.glob("*_reference.py")}
        self.data = {f.name: f.read_bytes() for f in folder.glob("*.safetensors")}
        in_cells = cell_checks(notebooks.read(self.source), first_index=len(self.checks))
        self.full = {c.name: c.points for c in (*self.checks, *in_cells)}

    def solution(self, *edits: tuple[str, str]) -> bytes:
        """The source notebook (the reference solution) with ``edits`` made in its cells."""
        notebook = json.loads(self.source)
        for old, new in edits:
            sources = ["".join(c["source"]) for c in notebook["cells"]]
            assert sum(old in s for s in sources) == 1, old
            for cell, source in zip(notebook["cells"], sources, strict=True):
                cell["source"] = source.replace(old, new)
        return json.dumps(notebook).encode()

    def grade(self, submitted: bytes):
        return grade_notebook(
            source=self.source,
            submitted=submitted,
            data_files=self.data,
            cell_timeout=60,
            limits=Limits(wall_seconds=120, cpu_seconds=120),
            reference_checks=self.checks,
            private=self.private,
        )

    def check_scores(self, result) -> dict:
        return {t.name: t.score for t in result.tests if t.name in self.full}

    def assert_loses_exactly(self, result, broken: set[str], message: str) -> None:
        expected = {n: (0 if n in broken else p) for n, p in self.full.items()}
        assert self.check_scores(result) == expected, result.tests
        for test in result.tests:
            if test.name in broken:
                assert message in test.output, test.output
