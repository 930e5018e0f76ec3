"""The check-strength report: mutants of a reference solution that no check catches, per check,
with the author's accepted ones set apart; the shipped assignments have no unexplained one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from autograder import mutants, strength
from tests.autograder.shipped import FOLDER

EPS_INSIDE = (
    "Adam.step: p.sub_(group['lr'] * m_hat / (v_hat.sqrt() + group['eps'])) -> "
    "p.sub_(group['lr'] * m_hat / (v_hat + group['eps']).sqrt())"
)


@pytest.mark.parametrize("name", ["a1", "a2", "a3"])
def test_it_finds_no_unexplained_survivor_in_a_shipped_assignment(name):
    report = strength.report(FOLDER / name)

    assert report.mutants > 10 and report.broken == [], report.text()
    assert report.unexplained == {} and report.stale == [], report.text()


def a2_with(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "a2"
    shutil.copytree(FOLDER / "a2", folder)
    spec = folder / "autograder.toml"
    assert old in spec.read_text()
    spec.write_text(spec.read_text().replace(old, new))
    return folder


def test_it_lists_the_adam_mistake_that_an_eps_of_1e_8_cannot_show(tmp_path):
    # the issue's: eps inside the square root differs by 6e-8 after 5 steps at the default eps
    folder = a2_with(tmp_path, "betas = [0.8, 0.95], eps = 0.1}", "betas = [0.8, 0.95]}")

    report = strength.report(folder)

    assert EPS_INSIDE in report.survivors["Adam"]
    assert "Adam:" in report.text() and EPS_INSIDE in report.text()


def test_an_accepted_mutant_is_set_apart_and_a_stale_acceptance_is_listed(tmp_path):
    folder = a2_with(tmp_path, "betas = [0.8, 0.95], eps = 0.1}", "betas = [0.8, 0.95]}")
    spec = folder / "autograder.toml"
    spec.write_text(
        spec.read_text() + f'\n[[accepted]]\nmutant = "{EPS_INSIDE}"\nwhy = "tiny"\n'
        '\n[[accepted]]\nmutant = "Adam.step: no such mutant"\nwhy = "gone"\n'
    )

    report = strength.report(folder)

    assert EPS_INSIDE not in report.survivors["Adam"] and report.accepted[EPS_INSIDE] == "tiny"
    assert report.stale == ["Adam.step: no such mutant"]


def test_the_command_fails_on_unexplained_survivors_and_says_which(tmp_path, capsys):
    folder = a2_with(tmp_path, "betas = [0.8, 0.95], eps = 0.1}", "betas = [0.8, 0.95]}")

    with pytest.raises(CommandError, match="are not explained"):
        call_command("check_strength", str(folder))

    assert EPS_INSIDE in capsys.readouterr().out
    with pytest.raises(CommandError, match="not an assignment folder"):
        call_command("check_strength", str(tmp_path / "missing"))


SOURCE = """def step(p, g, state, group):
    ### BEGIN SOLUTION
    state["t"] += 1
    v = group["beta"] * state["v"] + g * g
    return p - group["lr"] * g / (v.sqrt() + group["eps"])
    ### END SOLUTION


def untouched(x):
    return x + 1
"""


def test_mutants_move_terms_swap_hyperparameters_and_count_off_by_one():
    made = {m.id for m in mutants.of_cell(SOURCE)}

    assert (
        "step: return p - group['lr'] * g / (v.sqrt() + group['eps']) -> "
        "return p - group['lr'] * g / (v + group['eps']).sqrt()"
    ) in made
    assert (
        "step: return p - group['lr'] * g / (v.sqrt() + group['eps']) -> "
        "return p - group['eps'] * g / (v.sqrt() + group['lr'])"
    ) in made
    assert "step: state['t'] += 1 -> state['t'] += 2" in made
    assert "step: v = group['beta'] * state['v'] + g * g -> v = g * g" in made
    assert not any(i.startswith("untouched") for i in made)  # outside the solution region
