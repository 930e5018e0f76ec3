"""The student version of each shipped assignment still asks every written question: nbgrader
replaces a markdown answer cell whole, so the question must sit in a locked cell of its own."""

from __future__ import annotations

import pytest

from autograder import notebooks
from tests.autograder.shipped import Shipped


@pytest.mark.parametrize("name", ["a1", "a2", "a3"])
def test_every_written_answer_cell_follows_its_question(name):
    released = notebooks.release_version(notebooks.read(Shipped(name).source))
    cells = released.cells

    answers = [
        i
        for i, c in enumerate(cells)
        if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")
    ]
    assert answers
    for index in answers:
        question = cells[index - 1]
        assert question.cell_type == "markdown" and "In words" in question.source
        assert question.metadata["nbgrader"]["locked"] is True
        assert "?" in question.source
        assert "MARK SCHEME" not in cells[index].source
