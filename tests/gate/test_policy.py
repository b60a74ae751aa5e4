"""Reading the gate policy: kinds, options, names, paths, and every mistake refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from parity.core.errors import NotFoundError, UsageError
from parity.gate.policy import load_policy, parse_policy


def test_a_policy_reads_its_checks_in_order_with_default_names(tmp_path: Path) -> None:
    policy = tmp_path / "parity.toml"
    policy.write_text(
        """
[gate]
name = "release"

[[gate.checks]]
kind = "metric"
model = "clf@candidate"
metric = "accuracy"
min = 0.9

[[gate.checks]]
name = "the lock"
kind = "check-lock"
lock = "requirements.txt"
"""
    )
    read = load_policy(policy)
    assert read.name == "release"
    assert [(c.name, c.kind) for c in read.checks] == [
        ("metric accuracy", "metric"),
        ("the lock", "check-lock"),
    ]
    assert read.checks[1].option("lock") == str(tmp_path / "requirements.txt")


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ([{"kind": "speed"}], "unknown check kind 'speed'"),
        ([{"kind": "metric", "metric": "a", "model": "m", "minimum": 1}], "no option 'minimum'"),
        ([{"kind": "data-validate", "path": "t.csv"}], "needs 'schema'"),
        ([{"kind": "metric", "metric": "a"}], "needs 'model' or 'run'"),
        ([{"kind": "repro", "run": "a"}, {"kind": "repro", "run": "a"}], "two checks are named"),
        ([], "lists no [[gate.checks]]"),
    ],
)
def test_mistakes_are_refused_by_name(checks: list[dict[str, object]], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_policy({"gate": {"checks": checks}})


def test_a_missing_or_broken_policy_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no gate policy at"):
        load_policy(tmp_path / "parity.toml")
    (tmp_path / "parity.toml").write_text("[gate\n")
    with pytest.raises(UsageError, match="cannot read"):
        load_policy(tmp_path / "parity.toml")
    with pytest.raises(UsageError, match="has no \\[gate\\] table"):
        parse_policy({"tool": {}})
