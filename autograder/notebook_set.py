"""An nbgrader assignment of several notebooks (nbgrader's ``ps1``: ``problem1.ipynb``,
``problem2.ipynb`` and ``jupyter.png``), graded the way ``nbgrader autograde`` grades it:

- each submitted notebook on its own (``notebook_pipeline.grade_notebook``: restore, run in a
  sandbox of its own with the assignment's data files beside it, score), the assignment's wall
  time shared by them in order, so that a submission's grading takes no longer than the
  assignment says (what the sweeper of stuck submissions counts on); each run still gets
  ``MIN_RUN_SECONDS``;
- a notebook that was not submitted scores 0 in every cell, written answers and tasks included
  (nbgrader sets ``auto_score = 0`` and ``needs_manual_grade = False`` for all its grades);
- a submitted notebook that is none of the assignment's is not graded (and the notes say so);
  other files are not used: the assignment's own data files are there when each notebook runs.

nbgrader's grade ids are unique per notebook only, so a test is named ``problem1/correct_squares``
(``notebooks.test_name``) here, in hand grades and in ``results.json``. No database here.
"""

from __future__ import annotations

import dataclasses

from autograder import cell_scores, notebooks
from autograder.grades import Grade, TestResult
from autograder.notebook_pipeline import grade_notebook
from autograder.sandbox import Limits, isolation_level

# Weakest first: a grading that ran a notebook with less isolation records that one.
ISOLATION_ORDER = ("rlimits", "bubblewrap")
MIN_RUN_SECONDS = 10.0


def grade_notebook_set(
    *,
    sources: dict[str, bytes],
    submitted: dict[str, bytes],
    data_files: dict[str, bytes],
    limits: Limits,
    cell_timeout: int,
    private: dict[str, bytes],
    check_key: bytes | None = None,
) -> Grade:
    """``sources``: the assignment's source notebooks by file name; ``submitted``: the student's
    files by name; ``private``: the instructor's files that reference checks in grade cells may
    use."""
    parts: dict[str, Grade] = {}
    for name in sorted(sources):
        if name in submitted:
            left = limits.wall_seconds - sum(p.duration_seconds for p in parts.values())
            budget = dataclasses.replace(limits, wall_seconds=max(left, MIN_RUN_SECONDS))
            parts[name] = grade_notebook(
                source=sources[name],
                submitted=submitted[name],
                data_files=data_files,
                limits=budget,
                cell_timeout=cell_timeout,
                filename=name,
                private=private,
                check_key=check_key,
            )
        else:
            parts[name] = not_submitted(name, sources[name])
    grade = _merged(parts)
    unknown = sorted(n for n in set(submitted) - set(sources) if n.endswith(notebooks.SUFFIX))
    if unknown:
        grade.notes.append(
            f"Not graded: {', '.join(unknown)} (the notebooks are {', '.join(sorted(sources))})."
        )
    return grade


def not_submitted(name: str, source: bytes) -> Grade:
    """Every grade and task cell of a notebook that was not handed in, at 0."""
    message = f"{name} was not submitted, so every cell of it scores 0."
    tests = cell_scores.none_run(notebooks.read(source, name=name), message)
    return Grade(tests=tests, notes=[message], isolation="")


def _merged(parts: dict[str, Grade]) -> Grade:
    tests, notes, log = [], [], []
    for name, part in parts.items():
        tests += [
            TestResult(notebooks.test_name(name, t.name), t.score, t.max_score, t.status, t.output)
            for t in part.tests
        ]
        notes += [note if note.startswith(name) else f"{name}: {note}" for note in part.notes]
        if part.log:
            log.append(f"== {name}\n{part.log}")
    ran = [p for p in parts.values() if p.isolation]
    return Grade(
        tests=tests,
        notes=notes,
        log="\n".join(log),
        isolation=_weakest([p.isolation for p in ran]) or isolation_level(),
        duration_seconds=sum(p.duration_seconds for p in parts.values()),
        device="cuda" if any(p.device == "cuda" for p in ran) else "cpu",
        executed_notebooks={name: p.executed for name, p in parts.items() if p.executed},
    )


def _weakest(levels: list[str]) -> str:
    for level in ISOLATION_ORDER:
        if level in levels:
            return level
    return levels[0] if levels else ""
