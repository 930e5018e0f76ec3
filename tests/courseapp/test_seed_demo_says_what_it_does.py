"""``seed_demo`` says each step before it starts it: seeding takes a while and a silent command
looks stuck (issue 17, "long set-up steps say what they are doing")."""

from __future__ import annotations

from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from courseapp.demo.services import DEMO_PASSWORD


def test_it_prints_a_line_per_step_before_the_summary(db):
    out = StringIO()

    call_command("seed_demo", stdout=out)

    lines = out.getvalue().splitlines()
    steps = [line.strip() for line in lines[: lines.index("Created 89 objects for pmldl.")]]
    assert steps[0] == "Seeding the demo course:"
    assert "Importing assignment A1 from a1/ …" in steps
    assert "Importing assignment A3 from a3/ …" in steps
    assert len(steps) >= 7


def test_the_accounts_share_one_hash_of_the_published_password(db):
    call_command("seed_demo", stdout=StringIO())

    users = get_user_model().objects.filter(username__in=["ta", "student01", "student20"])
    assert len({u.password for u in users}) == 1
    assert all(u.check_password(DEMO_PASSWORD) for u in users)
