"""The released version of an assignment's source is computed once and kept: every submission
restores against the same source. Each caller still gets a notebook of its own, and a source
nbgrader refuses is refused every time (no database)."""

from __future__ import annotations

import copy

import pytest

from autograder import notebooks
from tests.autograder.nbfactory import source_notebook


def test_each_caller_gets_its_own_copy_of_the_kept_release():
    source = source_notebook()
    first = notebooks.release_version(source)
    first.cells[0].source = "changed by the first caller"

    second = notebooks.release_version(source)

    assert second.cells[0].source != "changed by the first caller"
    assert second == notebooks._release_version(source, "The notebook")


def test_a_changed_source_is_released_anew():
    source = source_notebook()
    changed = copy.deepcopy(source)
    changed.cells[0].source += "\n# one more line"

    assert notebooks.release_version(changed).cells[0].source.endswith("# one more line")
    assert not notebooks.release_version(source).cells[0].source.endswith("# one more line")


def test_a_refused_source_is_refused_every_time():
    source = source_notebook()
    source.cells[0].metadata["nbgrader"] = {"grade_id": "x", "schema_version": 99}

    for _ in range(2):
        with pytest.raises(notebooks.NotebookError):
            notebooks.release_version(source)
