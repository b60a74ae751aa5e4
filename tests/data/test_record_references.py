"""Every record kind Parity writes declares the ids it references, and misses none of them.

These fail when someone adds a record kind, or a field holding an id, without declaring it.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import parity
from parity.core.references import Reference, Target
from parity.data.record_references import RECORD_REFERENCES
from tests.data._records import digest, example_record, example_records

SOURCE = Path(parity.__file__).parent
HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
DATA_VERSION = digest("a data version")


def _kinds_written() -> set[str]:
    """Every ``*_KIND = "…"`` constant in Parity's source; and every ``StoredRecord(…)`` made
    there names its kind by such a constant, so no kind is spelled only as a literal."""
    kinds: set[str] = set()
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id.endswith("_KIND") for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                kinds.add(node.value.value)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "StoredRecord"
            ):
                kind = node.args[0] if node.args else None
                where = f"{path.relative_to(SOURCE)}:{node.lineno}"
                assert isinstance(kind, ast.Name), f"{where}: name the kind by a *_KIND constant"
                assert kind.id.endswith("_KIND"), f"{where}: name the kind by a *_KIND constant"
    return kinds


def test_every_kind_parity_writes_is_declared() -> None:
    kinds = _kinds_written()
    assert kinds == {
        "code",
        "data",
        "data_commit",
        "deploy_export",
        "env",
        "infra",
        "model",
        "profile",
        "validation",
    }
    assert set(RECORD_REFERENCES) == kinds
    assert set(example_records(DATA_VERSION)) == kinds
    for kind, declaration in RECORD_REFERENCES.items():
        assert declaration.kind == kind


def _fields(value: Any, seen: dict[tuple[str, str], bool]) -> None:
    """Whether each field of each record type has a value somewhere under ``value``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            inner = getattr(value, field.name)
            key = (type(value).__name__, field.name)
            seen[key] = seen.get(key, False) or inner not in (None, (), {}, "")
            _fields(inner, seen)
    elif isinstance(value, tuple):
        for item in value:
            _fields(item, seen)
    elif isinstance(value, Mapping):
        for item in value.values():
            _fields(item, seen)


def test_the_examples_fill_every_field_of_every_record_type() -> None:
    seen: dict[tuple[str, str], bool] = {}
    for record in example_records(DATA_VERSION).values():
        _fields(record, seen)
    empty = sorted(f"{owner}.{name}" for (owner, name), filled in seen.items() if not filled)
    assert empty == [], "fill these in tests/data/_records.py so their ids are checked"


def _at(body: Any, field: str) -> Any:
    """The value at ``field`` ("files[3].chunks[0][0]") in a record body."""
    value = body
    for name, index in re.findall(r"([A-Za-z_]+)|\[(\d+)\]", field):
        value = value[name] if name else value[int(index)]
    return value


@pytest.mark.parametrize("kind", sorted(RECORD_REFERENCES))
def test_every_id_in_a_record_is_a_declared_reference(kind: str) -> None:
    record = example_record(kind, DATA_VERSION)
    references = RECORD_REFERENCES[kind].of(record)
    for reference in references:
        assert isinstance(reference, Reference)
        assert _at(record.body, reference.field) == reference.id
    ids = HEX64.findall(record.to_bytes().decode())
    assert ids, "the example holds ids"
    undeclared = [i for i in ids if not any(i in r.id for r in references)]
    assert undeclared == [], f"{kind} records hold ids its references function does not return"


def test_what_each_kind_references() -> None:
    def targets(kind: str) -> dict[str, Target]:
        found = RECORD_REFERENCES[kind].of(example_record(kind, DATA_VERSION))
        return {r.field: r.target for r in found}

    assert targets("profile") == {"data_version": Target.DATA_VERSION}
    assert targets("data_commit") == {
        "pointer.data_version": Target.DATA_VERSION,
        "commit": Target.COMMIT,
    }
    assert targets("validation") == {
        "data_version": Target.DATA_VERSION,
        "schema_digest": Target.OBJECT,
    }
    assert targets("code") == {
        "commit": Target.COMMIT,
        "diff_digest": Target.OBJECT,
        "untracked_read[0].digest": Target.OBJECT,
    }
    assert targets("model") == {
        "environment_id": Target.ENVIRONMENT,
        "files[0].digest": Target.OBJECT,
        "files[1].digest": Target.OBJECT,
    }
    assert targets("data") == {
        "packs[0]": Target.PACK,
        "packs[1]": Target.PACK,
        "files[0].digest": Target.CONTENT,
        "files[0].chunks[0][0]": Target.CHUNK,
        "files[0].chunks[1][0]": Target.CHUNK,
        "files[0].chunks[1][5][0]": Target.CHUNK,
    }
    assert set(targets("env").values()) == {Target.COMMIT, Target.CONTENT}
    assert targets("infra") == {"files[0].digest": Target.OBJECT}
    assert targets("deploy_export") == {
        "model_id": Target.MODEL,
        "environment_id": Target.ENVIRONMENT,
        "run_id": Target.RUN,
        "data_versions[0]": Target.DATA_VERSION,
        "files[0].digest": Target.OBJECT,
    }
