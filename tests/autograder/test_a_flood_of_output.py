"""A cell that prints without end costs its output, not the grade."""

from __future__ import annotations

import pytest

from autograder.notebook_pipeline import grade_notebook
from autograder.sandbox import Limits
from tests.autograder.nbfactory import source_bytes, student_notebook


@pytest.mark.slow
def test_a_flood_of_output_in_a_cell_costs_its_output_not_the_grade():
    flood = "    return max(0, x)\nprint('x' * 5_000_000)"
    result = grade_notebook(
        source=source_bytes(),
        submitted=student_notebook(flood),
        data_files={},
        limits=Limits(wall_seconds=60, memory_bytes=1536 * 2**20, output_bytes=64 * 1024),
        cell_timeout=20,
    )

    assert {t.name: t.score for t in result.tests}["test_relu"] == 2
    assert b"output cut" in result.executed
