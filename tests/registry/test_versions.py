"""The registry's rules, over a SQLite file, the real PostgreSQL and a Parity server (whose
registry is reached over HTTP, each change made with the token of the actor's user)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from parity.core.errors import ConflictError, NotFoundError, StorageError, UsageError
from parity.core.model import ModelVersion
from parity.core.refs import parse_reference
from parity.registry.repository import ModelRegistry
from parity.registry.versions import Actor, Registry
from parity.store.meta import open_metadata_store
from tests._threads import at_once
from tests.registry._server import ActingRegistry, served_registry

ALICE = Actor("alice")
ADMIN = Actor("root", admin=True)
MODEL_A = "a" * 64
MODEL_B = "b" * 64
RUN_1 = "1" * 32
RUN_2 = "2" * 32


@pytest.fixture
def sql_registry(database_url: str) -> Iterator[Registry]:
    meta = open_metadata_store(database_url)
    ticks = itertools.count(1_000)
    yield Registry(meta, clock=lambda: next(ticks))
    meta.close()


@pytest.fixture(params=["sqlite", "postgres", "server"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ModelRegistry]:
    """The registry over each backend: SQLite, PostgreSQL, and a server (on SQLite) over HTTP."""
    if request.param == "server":
        with served_registry(tmp_path / "served", [MODEL_A, MODEL_B]) as served:
            acting = ActingRegistry(served)
            yield acting
            acting.close()
        return
    url = (
        f"sqlite:///{tmp_path / 'parity.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    meta = open_metadata_store(url)
    ticks = itertools.count(1_000)
    yield Registry(meta, clock=lambda: next(ticks))
    meta.close()


def test_versions_are_numbered_from_one(registry: ModelRegistry) -> None:
    first = registry.register("bc", MODEL_A, ALICE, run_id=RUN_1)
    second = registry.register("bc", MODEL_B, ALICE, run_id=RUN_2)
    assert (first.version, second.version) == (1, 2)
    assert registry.latest("bc").model_id == MODEL_B
    assert registry.resolve("bc/1").run_id == RUN_1
    assert registry.resolve("bc").version == 2
    assert [v.version for v in registry.versions("bc")] == [1, 2]


def test_alias_moves_and_history_keeps_every_step(registry: ModelRegistry) -> None:
    registry.register("bc", MODEL_A, ALICE)
    registry.register("bc", MODEL_B, ALICE)
    registry.set_alias("bc", 1, "production", ALICE, reason="first release")
    assert registry.resolve("bc@production").version == 1
    registry.set_alias("bc", 2, "production", ALICE, reason="better recall")
    assert registry.resolve("bc@production").version == 2
    assert registry.get("bc", 1).aliases == ()
    steps = [(e.action, e.version, e.reason) for e in registry.history("bc")]
    assert steps == [
        ("register", 1, None),
        ("register", 2, None),
        ("alias", 1, "first release"),
        ("alias", 2, "better recall"),
    ]
    moved = registry.history("bc")[-1]
    assert moved.before == {"alias": "production", "version": 1}
    assert moved.after == {"alias": "production", "version": 2}
    assert moved.actor == "alice"


def test_locked_version_keeps_its_alias_unless_an_admin_forces(registry: ModelRegistry) -> None:
    registry.register("bc", MODEL_A, ALICE)
    registry.register("bc", MODEL_B, ALICE)
    registry.set_alias("bc", 1, "production", ALICE, reason="release")
    registry.lock("bc", 1, ALICE, reason="serving")
    with pytest.raises(ConflictError, match=r"bc/1 is locked: cannot move alias 'production'") as e:
        registry.set_alias("bc", 2, "production", ALICE, reason="try")
    assert e.value.exit_code == 4
    with pytest.raises(ConflictError, match="only an admin may force"):
        registry.set_alias("bc", 2, "production", ALICE, reason="try", force=True)
    registry.set_alias("bc", 2, "production", ADMIN, reason="hotfix", force=True)
    last = registry.history("bc")[-1]
    assert (last.action, last.actor, last.forced, last.reason) == ("alias", "root", True, "hotfix")


def test_delete_is_refused_when_locked_or_aliased(registry: ModelRegistry) -> None:
    registry.register("bc", MODEL_A, ALICE)
    registry.register("bc", MODEL_B, ALICE)
    registry.set_alias("bc", 1, "staging", ALICE, reason="qa")
    with pytest.raises(ConflictError, match="holds alias staging"):
        registry.delete("bc", 1, ALICE)
    registry.lock("bc", 2, ALICE)
    with pytest.raises(ConflictError, match="bc/2 is locked: cannot delete"):
        registry.delete("bc", 2, ALICE)
    registry.delete("bc", 2, ADMIN, reason="retired", force=True)
    with pytest.raises(NotFoundError, match="has no version 2"):
        registry.get("bc", 2)
    # Numbers are never reused.
    assert registry.register("bc", MODEL_B, ALICE).version == 3
    actions = [e.action for e in registry.history("bc")]
    assert actions == ["register", "register", "alias", "lock", "delete", "register"]


def test_only_admins_unlock(registry: ModelRegistry) -> None:
    registry.register("bc", MODEL_A, ALICE)
    registry.lock("bc", 1, ALICE)
    with pytest.raises(ConflictError, match="only an admin may unlock bc/1"):
        registry.unlock("bc", 1, ALICE)
    registry.unlock("bc", 1, ADMIN, reason="done")
    assert not registry.get("bc", 1).locked


def test_audit_trail_cannot_be_edited_or_deleted(sql_registry: Registry) -> None:
    sql_registry.register("bc", MODEL_A, ALICE)
    for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
        with (
            pytest.raises((ConflictError, StorageError), match="append-only"),
            sql_registry.meta.write() as c,
        ):
            c.execute(sa.text(statement))
    assert sql_registry.history("bc")[0].actor == "alice"


def test_unknown_names_and_bad_input(registry: ModelRegistry) -> None:
    with pytest.raises(NotFoundError, match="no model named 'nope'"):
        registry.resolve("nope@production")
    registry.register("bc", MODEL_A, ALICE)
    with pytest.raises(NotFoundError, match="has no alias 'production'"):
        registry.resolve("bc@production")
    with pytest.raises(UsageError, match="not a valid model name"):
        registry.register("bad name", MODEL_A, ALICE)
    with pytest.raises(UsageError, match="cannot be an alias"):
        registry.set_alias("bc", 1, "7", ALICE, reason="x")


def test_list_models(registry: ModelRegistry) -> None:
    registry.register("bc", MODEL_A, ALICE)
    registry.register("churn", MODEL_B, ALICE)
    registry.set_alias("churn", 1, "production", ALICE, reason="go")
    listed = {m["name"]: m for m in registry.models()}
    assert listed["bc"]["latest_version"] == 1
    assert listed["churn"]["aliases"] == {"production": 1}


def test_eight_registrants_at_once_all_succeed(registry: ModelRegistry) -> None:
    def register_three() -> list[int]:
        return [registry.register("bc", MODEL_A, ALICE).version for _ in range(3)]

    outcome = at_once(*[register_three] * 8)
    numbers = sorted(n for result in outcome if isinstance(result, list) for n in result)
    assert numbers == list(range(1, 25)), outcome
    registered = sorted(e.version or 0 for e in registry.history("bc") if e.action == "register")
    assert registered == numbers


def test_writers_creating_one_alias_at_once_all_succeed(registry: ModelRegistry) -> None:
    for _ in range(4):
        registry.register("bc", MODEL_A, ALICE)
    for round_ in range(5):
        alias = f"new-{round_}"
        outcome = at_once(
            *[
                lambda v=v, a=alias: registry.set_alias("bc", v, a, ALICE, reason="create")
                for v in range(1, 5)
            ]
        )
        assert [type(o) for o in outcome] == [ModelVersion] * 4, outcome
        moves = [e for e in registry.history("bc") if e.after and e.after.get("alias") == alias]
        assert moves[0].before is None  # created once, then moved by the others in turn
        for earlier, later in itertools.pairwise(moves):
            assert later.before == earlier.after
        assert registry.resolve(f"bc@{alias}").version == moves[-1].version


def test_a_clock_behind_never_moves_the_trail_back_in_time(sql_registry: Registry) -> None:
    # Two team members whose clocks disagree by a minute change the same model in turn.
    ahead = Registry(sql_registry.meta, clock=lambda: 1_800_000_060_000)
    behind = Registry(sql_registry.meta, clock=lambda: 1_800_000_000_000)
    ahead.register("bc", MODEL_A, ALICE)
    behind.register("bc", MODEL_B, ALICE)
    behind.set_alias("bc", 2, "production", ALICE, reason="release")
    times = [e.time_ms for e in sql_registry.history("bc")]
    assert times == sorted(times)
    assert times == [1_800_000_060_000] * 3


@pytest.mark.parametrize("version", [10**30, 2**63, True, "1", 0, -1])
def test_a_version_number_no_store_can_hold_is_a_usage_error(
    registry: ModelRegistry, version: object
) -> None:
    # 10**30 reached the database driver as an OverflowError traceback; True acted on version 1.
    registry.register("bc", MODEL_A, ALICE)
    with pytest.raises(UsageError):
        registry.get("bc", version)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        registry.lock("bc", version, ALICE)  # type: ignore[arg-type]
    assert not registry.get("bc", 1).locked


def test_a_reference_to_a_version_too_large_for_any_store_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no model has version"):
        parse_reference("bc/99999999999999999999999")
