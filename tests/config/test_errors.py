"""A problem reads as sentences: what is wrong, a full stop, then the fix."""

from __future__ import annotations

from config.errors import ConfigError, Problem


def test_a_problem_with_a_fix_reads_as_two_sentences() -> None:
    problem = Problem("ollama-fleet:routs", "unknown key", "use one of: cluster, pools")
    assert str(problem) == "ollama-fleet:routs: unknown key. Fix: use one of: cluster, pools"


def test_a_message_that_already_ends_a_sentence_keeps_one_full_stop() -> None:
    assert str(Problem("pools[0].driver", "is too old.", "pin 570.124.06")) == (
        "pools[0].driver: is too old. Fix: pin 570.124.06"
    )
    assert str(Problem("", "cannot read it: no such file")) == "cannot read it: no such file."


def test_every_problem_of_a_file_is_listed_under_its_source() -> None:
    error = ConfigError("Pulumi.bad.yaml", [Problem("defaultPool", "unknown pool 'h100'", "use one of: t4")])
    assert str(error) == "Pulumi.bad.yaml: 1 problem:\n  - defaultPool: unknown pool 'h100'. Fix: use one of: t4"
