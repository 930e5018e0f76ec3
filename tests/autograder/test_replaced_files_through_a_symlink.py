"""A data set the sandbox shows reduced (a training check's held-out rows removed) is replaced at
the path the program reads it by. The worker names it by where it imported the library from; a
worker whose virtualenv is reached through a symlink names it through that link, while the
sandbox binds the resolved installation: replaced at the link's path, the program read the whole
file at the real one (seen in CI, whose checkout's .venv is such a link) (no database)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.execution import run_notebook
from autograder.sandbox import Limits, bubblewrap

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not bubblewrap.works(bubblewrap.BWRAP)[0], reason="needs bubblewrap"),
]
REAL = Path(os.path.realpath(__import__("nbformat").__file__)).parent / "v4"


@pytest.mark.parametrize("start", ["warm", "cold"])
def test_a_file_named_through_a_symlink_is_replaced_where_the_program_reads_it(
    tmp_path, monkeypatch, start
):
    monkeypatch.setenv("AUTOGRADER_WARM", "auto" if start == "warm" else "off")
    link = tmp_path / "through-a-link"
    link.symlink_to(REAL)
    schema = "nbformat.v4.schema.json"
    read = f"print(open({str(REAL / schema)!r}, 'rb').read()[:40])"

    execution = run_notebook(
        new_notebook(cells=[new_code_cell(read)]),
        data_files={},
        limits=Limits(wall_seconds=120, memory_bytes=1536 * 2**20),
        cell_timeout=60,
        replaced={link / schema: b"the reduced copy"},
        student_cells={0},
    )

    assert execution.executed.cells[0].outputs[0]["text"] == "b'the reduced copy'\n"
