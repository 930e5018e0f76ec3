"""Every ``manage.py`` command line README.md shows is accepted as written, with and without its
optional parts; the gradebook import runs as documented, without naming a staff member."""

from __future__ import annotations

import itertools
import re
import shlex
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class

from grading.models import Score, ScoreHistory

README = Path(__file__).resolve().parents[2] / "README.md"
OPTIONAL = re.compile(r"\[([^\[\]]*)\]")


def _documented_lines() -> list[str]:
    """``manage.py …`` as README shows it: in code blocks and in inline code, comments cut."""
    text = README.read_text(encoding="utf-8")
    found = []
    for line in text.splitlines():
        if line.lstrip().startswith(".venv/bin/python manage.py "):
            found.append(line.split("manage.py ", 1)[1].split("#", 1)[0].strip())
    for code in re.findall(r"`([^`\n]+)`", text):
        # A command line, not a mention of a command's name ("`manage.py autograde` exits 0").
        if code.startswith("manage.py ") and len(code.split()) > 2:
            found.append(code.split("manage.py ", 1)[1].strip())
    return found


def _variants(line: str) -> list[str]:
    """The line with each ``[optional part]`` left out or put in (``FILE`` stands for a file)."""
    parts = OPTIONAL.split(line)  # text, optional, text, optional, ...
    fixed, optional = parts[0::2], parts[1::2]
    variants = []
    for chosen in itertools.product([False, True], repeat=len(optional)):
        words = [fixed[0]]
        for include, part, text in zip(chosen, optional, fixed[1:], strict=True):
            words += [part if include else "", text]
        variants.append(" ".join(" ".join(words).split()))
    return variants


DOCUMENTED = [v for line in _documented_lines() for v in _variants(line)]


def test_readme_documents_the_gradebook_commands():
    assert "gradebook import --course pmldl FILE" in DOCUMENTED
    assert "gradebook export --course pmldl" in DOCUMENTED
    assert len(DOCUMENTED) >= 10


@pytest.mark.parametrize("line", DOCUMENTED)
def test_every_documented_command_line_is_accepted(line):
    name, *args = shlex.split(line)
    command = load_command_class(get_commands()[name], name)
    parser = command.create_parser("manage.py", name)

    parser.parse_args(args)  # raises CommandError for an unknown or a missing argument


def test_the_documented_import_applies_and_records_no_person(tmp_path, midterm, student, course):
    csv = tmp_path / "scores.csv"
    csv.write_text("username,item,points\nstudent,Midterm theory,7.5\n", encoding="utf-8")
    out = StringIO()

    call_command("gradebook", "import", "--course", "pmldl", str(csv), stdout=out)

    score = Score.objects.get(item=midterm, student=student)
    assert score.raw_points == 7.5
    entry = ScoreHistory.objects.get(score=score)
    assert entry.changed_by is None and entry.source == "import"
    assert "1 score(s) changed" in out.getvalue()
