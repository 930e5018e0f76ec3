"""nbgrader itself, run for real in a scratch course directory (as ``bench/autograde.py`` does):
what ``nbgrader autograde`` gives each cell, to compare our grading with.

nbgrader ships its user guide's example course in its wheel: ``source/ps1`` (``problem1.ipynb``,
``problem2.ipynb``, ``jupyter.png``), ``release/ps1`` and ``submitted/{bitdiddle,hacker}/ps1``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import nbgrader

USER_GUIDE = Path(nbgrader.__file__).parent / "docs" / "source" / "user_guide"
TEST_FILES = Path(nbgrader.__file__).parent / "tests" / "apps" / "files"
ASSIGNMENT = "ps1"


def folder(path: Path, *, suffix: str = "") -> dict[str, bytes]:
    """The files of a folder of the example course (those ending with ``suffix``), by name."""
    return {
        p.name: p.read_bytes()
        for p in sorted(path.iterdir())
        if p.is_file() and p.name.endswith(suffix)
    }


def autograde(
    root: Path, source: dict[str, bytes], submitted: dict[str, dict[str, bytes]]
) -> dict[str, dict[tuple[str, str], tuple[Decimal | None, bool]]]:
    """``nbgrader generate_assignment`` of ``source`` (file name to content), then ``nbgrader
    autograde`` of each student's files; per student, per (notebook, grade id): nbgrader's
    ``auto_score`` and whether it left the cell for a TA (``needs_manual_grade``)."""
    _write(root / "source" / ASSIGNMENT, source)
    for student, files in submitted.items():
        _write(root / "submitted" / student / ASSIGNMENT, files)
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'parity'\n"
    )
    _nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    _nbgrader(root, "autograde", ASSIGNMENT, "--create", "--force")
    return _grades(root)


def _write(path: Path, files: dict[str, bytes]) -> None:
    path.mkdir(parents=True)
    for name, content in files.items():
        (path / name).write_bytes(content)


def _nbgrader(root: Path, *args: str) -> None:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}  # it runs alembic
    done = subprocess.run(
        [str(bin_dir / "nbgrader"), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}"


def _grades(root: Path) -> dict:
    from nbgrader.api import Gradebook

    found: dict = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for submission in gradebook.find_assignment(ASSIGNMENT).submissions:
            cells = found.setdefault(submission.student.id, {})
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    auto = None if grade.auto_score is None else Decimal(str(grade.auto_score))
                    cells[(notebook.name, grade.name)] = (auto, grade.needs_manual_grade)
    return found
