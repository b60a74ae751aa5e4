"""Promotion policies: an alias with a ``[promote.ALIAS]`` table moves only to a version with
enough approvals (by users other than its registrant) and a passing verdict of each named gate;
every approval, verdict and refusal is in the audit trail. Over a SQLite file, the real
PostgreSQL and a Parity server (whose registry reads the server's own parity.toml)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.core.errors import ConflictError, UsageError
from parity.core.model import ModelVersion
from parity.registry.promotion import (
    PromotionRule,
    load_promotion,
    parse_promotion,
    readiness,
)
from parity.registry.repository import Actor, ModelRegistry
from parity.registry.versions import Registry
from parity.store.meta import open_metadata_store
from tests.registry._server import ActingRegistry, served_registry

ALICE = Actor("alice")
BOB = Actor("bob")
# On a server approving takes the admin role (or an admin grant on the model).
ROOT = Actor("root", admin=True)  # registers
ADA = Actor("ada", admin=True)
MODEL_A = "a" * 64
POLICY = """\
[gate]
name = "ci"

[promote.production]
gates = ["ci"]
approvals = 1
"""


@pytest.fixture(params=["sqlite", "postgres", "server"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ModelRegistry]:
    """A registry whose policy file says production needs one approval and a passing 'ci'."""
    if request.param == "server":
        folder = tmp_path / "served"
        with served_registry(folder, [MODEL_A]) as served:
            (folder / "parity.toml").write_text(POLICY, encoding="utf-8")
            acting = ActingRegistry(served)
            yield acting
            acting.close()
        return
    url = (
        f"sqlite:///{tmp_path / 'parity.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    policy = tmp_path / "parity.toml"
    policy.write_text(POLICY, encoding="utf-8")
    meta = open_metadata_store(url)
    ticks = itertools.count(1_000)
    yield Registry(meta, clock=lambda: next(ticks), promotion=lambda: load_promotion(policy))
    meta.close()


def test_production_moves_only_with_an_approval_and_a_passing_gate(
    registry: ModelRegistry,
) -> None:
    registry.register("bc", MODEL_A, ROOT)
    with pytest.raises(ConflictError) as refused:
        registry.set_alias("bc", 1, "production", ALICE, reason="ship it")
    assert refused.value.message == (
        "cannot move bc@production to bc/1: "
        "bc/1 needs 1 more approval and a passing 'ci' gate verdict"
    )
    assert "parity models approve bc/1" in (refused.value.hint or "")
    assert "parity gate --model bc/1" in (refused.value.hint or "")
    assert "[promote.production] in " in (refused.value.hint or "")

    with pytest.raises(ConflictError, match="root registered bc/1: approvals must come from"):
        registry.approve("bc", 1, ROOT, "my own work")
    registry.approve("bc", 1, ADA, "read the eval report")
    registry.approve("bc", 1, ADA, "again")  # counts once, recorded once
    with pytest.raises(ConflictError) as refused:
        registry.set_alias("bc", 1, "production", ALICE, reason="approved now")
    assert refused.value.message.endswith(": bc/1 needs a passing 'ci' gate verdict")
    assert "approve" not in (refused.value.hint or "")

    registry.record_verdict("bc", 1, "ci", "failed", BOB, "1 failed")
    with pytest.raises(ConflictError, match=r"'ci' gate verdict \(the last one failed\)"):
        registry.set_alias("bc", 1, "production", ALICE, reason="retry")
    registry.record_verdict("bc", 1, "ci", "passed", BOB, "3 passed")
    moved = registry.set_alias("bc", 1, "production", ALICE, reason="approved and green")
    assert moved.aliases == ("production",)
    registry.set_alias("bc", 1, "staging", ALICE, reason="no rule for staging")

    steps = [(e.action, e.actor, e.reason, e.version) for e in registry.history("bc")]
    assert steps == [
        ("register", "root", None, 1),
        ("refused", "alice", "ship it", 1),
        ("refused", "root", "my own work", 1),
        ("approve", "ada", "read the eval report", 1),
        ("refused", "alice", "approved now", 1),
        ("gate", "bob", "1 failed", 1),
        ("refused", "alice", "retry", 1),
        ("gate", "bob", "3 passed", 1),
        ("alias", "alice", "approved and green", 1),
        ("alias", "alice", "no rule for staging", 1),
    ]
    trail = registry.history("bc")
    assert trail[1].after == {
        "alias": "production",
        "version": 1,
        "refused": "bc/1 needs 1 more approval and a passing 'ci' gate verdict",
    }
    assert trail[2].after == {"action": "approve"}
    assert trail[5].after == {"gate": "ci", "status": "failed"}


def test_only_an_admin_forces_past_the_policy_and_it_is_audited(registry: ModelRegistry) -> None:
    registry.register("bc", MODEL_A, ALICE)
    with pytest.raises(ConflictError, match="only an admin may force: move 'production'"):
        registry.set_alias("bc", 1, "production", BOB, reason="hotfix", force=True)
    forced = registry.set_alias("bc", 1, "production", ROOT, reason="incident 42", force=True)
    assert forced.aliases == ("production",)
    last = registry.history("bc")[-2:]
    assert [(e.action, e.actor, e.forced) for e in last] == [
        ("refused", "bob", False),
        ("alias", "root", True),
    ]
    assert last[1].after == {
        "alias": "production",
        "version": 1,
        "bypassed": "bc/1 needs 1 more approval and a passing 'ci' gate verdict",
    }


def test_a_verdict_needs_a_known_status(registry: ModelRegistry) -> None:
    registry.register("bc", MODEL_A, ALICE)
    with pytest.raises(UsageError):
        registry.record_verdict("bc", 1, "ci", "green", ALICE)


def _version(created_by: str = "alice") -> ModelVersion:
    return ModelVersion("bc", 3, MODEL_A, None, 1, created_by, False, (), None)


def test_readiness_counts_distinct_users_other_than_the_registrant() -> None:
    from parity.core.model import AuditEvent

    def event(action: str, actor: str, version: int = 3, **after: str) -> AuditEvent:
        return AuditEvent(0, "bc", version, action, actor, 1, None, after or None, None)

    rule = PromotionRule("production", ("ci", "lint"), approvals=2)
    trail = [
        event("approve", "alice"),  # the registrant: never counts
        event("approve", "bob"),
        event("approve", "bob"),
        event("approve", "carol", version=2),  # another version
        event("gate", "ci-bot", gate="ci", status="passed"),
        event("gate", "ci-bot", gate="lint", status="passed"),
        event("gate", "ci-bot", gate="lint", status="error"),  # the last one counts
    ]
    found = readiness(rule, _version(), trail)
    assert found.approvers == ("bob",)
    assert (found.approvals_needed, found.gates_missing) == (1, ("lint",))
    assert found.sentence() == (
        "bc/3 needs 1 more approval and a passing 'lint' gate verdict (the last one error)"
    )
    assert readiness(PromotionRule("production", (), 3), _version(), []).sentence() == (
        "bc/3 needs 3 more approvals"
    )
    ready = readiness(PromotionRule("production", ("ci",), 1), _version(), trail)
    assert ready.ok
    assert ready.sentence() == "bc/3 is ready"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[promote.production]\napproval = 1\n", "[promote.production] has no key 'approval'"),
        ('[promote.production]\napprovals = "1"\n', "approvals must be a whole number"),
        ("[promote.production]\napprovals = true\n", "approvals must be a whole number"),
        ("[promote.production]\napprovals = -1\n", "approvals must be a whole number"),
        ('[promote.production]\ngates = "ci"\n', "gates must be a list of gate names"),
        ("[promote.production]\ngates = [1]\n", "gates must be a list of gate names"),
        ('promote = "production"\n', "promote must be a table of aliases"),
        ("[promote]\nproduction = 1\n", "[promote.production] must be a table"),
        ("[promote.latest]\napprovals = 1\n", "'latest' cannot be an alias"),
    ],
)
def test_a_wrong_section_is_refused_naming_the_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    policy = tmp_path / "parity.toml"
    policy.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as refused:
        load_promotion(policy)
    assert refused.value.message.startswith(f"{policy}: ")
    assert message in refused.value.message


def test_no_file_or_no_section_protects_nothing(tmp_path: Path) -> None:
    assert load_promotion(tmp_path / "missing.toml").rule("production") is None
    parsed = parse_promotion({"promote": {"production": {"approvals": 0}, "prod": {}}})
    assert parsed.rule("production") is None
    assert parsed.rule("prod") is None
    policy = tmp_path / "parity.toml"
    policy.write_text("[promote.production\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"cannot read .*parity\.toml"):
        load_promotion(policy)


def test_a_deleted_version_s_number_is_not_adopted_by_another_model(tmp_path: Path) -> None:
    """Approvals and verdicts recorded for bc/2 must never count for another model later taken
    in (``parity deploy unpack``) under the same number."""
    from parity.store.meta import open_metadata_store

    meta = open_metadata_store(f"sqlite:///{tmp_path / 'p.db'}")
    ticks = itertools.count(1_000)
    registry = Registry(meta, clock=lambda: next(ticks))
    root, ada, alice = Actor("root", admin=True), Actor("ada", admin=True), Actor("alice")
    registry.register("bc", "a" * 64, root)
    registry.register("bc", "a" * 64, root)
    registry.approve("bc", 2, ada, "read the report")
    registry.delete("bc", 2, alice, "withdrawn")
    other = ModelVersion("bc", 2, "b" * 64, None, 0, "root", False, (), None)
    with pytest.raises(ConflictError, match="bc/2 was a version here before"):
        registry.adopt(other, alice, "unpacked")
    fresh = ModelVersion("bc", 3, "b" * 64, None, 0, "root", False, (), None)
    assert registry.adopt(fresh, alice, "unpacked").model_id == "b" * 64
    meta.close()
