"""``validate``: tables against pandera schemas, and the validation record on the data version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.core.ids import digest_bytes
from parity.workspace import Workspace, open_workspace
from tests.conftest import run_parity

SCHEMA_YAML = """\
schema_type: dataframe
version: 0.35.0
columns:
  age:
    dtype: int64
    nullable: false
    checks:
      greater_than_or_equal_to: 0
      less_than_or_equal_to: 130
  country:
    dtype: str
    nullable: false
    checks:
      isin:
      - DE
      - FR
      - NL
  income:
    dtype: float64
    nullable: true
coerce: false
strict: false
"""

SCHEMA_PY = """\
import pandera.pandas as pa

schema = pa.DataFrameSchema(
    {
        "age": pa.Column(int, pa.Check.in_range(0, 130)),
        "country": pa.Column(str, pa.Check.isin(["DE", "FR", "NL"])),
    },
    checks=[pa.Check(lambda frame: len(frame) >= 3, name="at_least_3_rows")],
)
"""

GOOD = "age,country,income\n34,DE,51000.0\n29,FR,\n61,NL,72000.5\n"
BAD = "age,country,income\n34,DE,51000.0\n-3,FR,1.0\n61,US,72000.5\n140,XX,2.0\n"


@pytest.fixture
def workspace(workspace_dir: Path) -> Iterator[Workspace]:
    ws = open_workspace(workspace_dir, environ={})
    yield ws
    ws.close()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_a_passing_table(workspace: Workspace) -> None:
    from parity.api import data as data_api

    table = _write(workspace.root, "people.csv", GOOD)
    schema = _write(workspace.root, "people.yaml", SCHEMA_YAML)
    outcome = data_api.validate(table, schema, workspace=workspace)

    validation = outcome.validation
    assert validation.ok
    assert validation.rows == 3
    assert validation.failures == ()
    assert not outcome.versioned
    assert validation.data_version == digest_bytes(table.read_bytes())
    assert validation.schema_digest == digest_bytes(schema.read_bytes())
    assert workspace.objects.get_bytes(validation.schema_digest) == schema.read_bytes()
    assert data_api.validations(validation.data_version, workspace=workspace) == [
        (outcome.record_id, validation)
    ]


def test_a_failing_table_lists_every_failed_check_by_column(workspace: Workspace) -> None:
    from parity.api import data as data_api

    table = _write(workspace.root, "people.csv", BAD)
    schema = _write(workspace.root, "people.yaml", SCHEMA_YAML)
    outcome = data_api.validate(table, schema, workspace=workspace)

    validation = outcome.validation
    assert not validation.ok
    failed = {(f.column, f.check): f for f in validation.failures}
    assert set(failed) == {
        ("age", "greater_than_or_equal_to(0)"),
        ("age", "less_than_or_equal_to(130)"),
        ("country", "isin(['DE', 'FR', 'NL'])"),
    }
    assert failed["country", "isin(['DE', 'FR', 'NL'])"].failure_cases == 2
    assert failed["country", "isin(['DE', 'FR', 'NL'])"].examples == ("row 2: 'US'", "row 3: 'XX'")
    assert failed["age", "greater_than_or_equal_to(0)"].examples == ("row 1: -3",)
    [(record_id, stored)] = data_api.validations(validation.data_version, workspace=workspace)
    assert record_id == outcome.record_id
    assert stored == validation
    assert workspace.records.get(record_id).body["ok"] is False


def test_python_schema_and_parquet_table(workspace: Workspace) -> None:
    import pandas as pd

    from parity.api import data as data_api

    table = workspace.root / "people.parquet"
    pd.DataFrame({"age": [1, 200], "country": ["DE", "FR"]}).to_parquet(table)
    schema = _write(workspace.root, "schema.py", SCHEMA_PY)
    validation = data_api.validate(table, schema, workspace=workspace).validation
    checks = {(f.column, f.check) for f in validation.failures}
    assert checks == {("age", "in_range(0, 130)"), (None, "at_least_3_rows")}


def test_a_missing_column_is_reported_on_that_column(workspace: Workspace) -> None:
    from parity.api import data as data_api

    table = _write(workspace.root, "t.csv", "age,income\n3,1.0\n")
    schema = _write(workspace.root, "people.yaml", SCHEMA_YAML)
    validation = data_api.validate(table, schema, workspace=workspace).validation
    assert ("country", "column_in_dataframe") in {(f.column, f.check) for f in validation.failures}


def test_bad_inputs_are_usage_errors(workspace: Workspace) -> None:
    from parity.api import data as data_api
    from parity.core.errors import UsageError

    table = _write(workspace.root, "people.csv", GOOD)
    not_schema = _write(workspace.root, "x.py", "schema = 42\n")
    with pytest.raises(UsageError, match="does not define a pandera DataFrameSchema"):
        data_api.validate(table, not_schema, workspace=workspace)
    broken = _write(workspace.root, "broken.yaml", "columns: [1, 2\n")
    with pytest.raises(UsageError, match="is not a pandera schema"):
        data_api.validate(table, broken, workspace=workspace)
    text = _write(workspace.root, "notes.txt", "hello")
    schema = _write(workspace.root, "people.yaml", SCHEMA_YAML)
    with pytest.raises(UsageError, match="not a table"):
        data_api.validate(text, schema, workspace=workspace)


@pytest.mark.postgres
def test_validations_are_listed_for_the_version_on_postgresql(
    workspace_dir: Path, postgres_url: str
) -> None:
    from parity.api import data as data_api

    workspace = open_workspace(workspace_dir, environ={"PARITY_METADATA_URL": postgres_url})
    try:
        table = _write(workspace.root, "people.csv", BAD)
        schema = _write(workspace.root, "people.yaml", SCHEMA_YAML)
        first = data_api.validate(table, schema, workspace=workspace)
        schema_py = _write(workspace.root, "schema.py", SCHEMA_PY)
        second = data_api.validate(table, schema_py, workspace=workspace)
        listed = data_api.validations(first.validation.data_version, workspace=workspace)
        assert {record_id for record_id, _ in listed} == {first.record_id, second.record_id}
        assert {v.schema_digest for _, v in listed} == {
            first.validation.schema_digest,
            second.validation.schema_digest,
        }
        assert workspace.meta.dialect == "postgresql"
    finally:
        workspace.close()


# the command line, on versioned data -------------------------------------------------------------
@pytest.mark.slow
def test_validate_command_exit_codes_and_the_record_on_the_data_version(
    workspace_dir: Path,
) -> None:
    from parity.api import data as data_api
    from parity.data.pointer import read_pointer

    root = workspace_dir
    (root / "tables").mkdir()
    good = _write(root / "tables", "good.csv", GOOD)
    bad = _write(root / "tables", "bad.csv", BAD)
    _write(root, "people.yaml", SCHEMA_YAML)
    assert run_parity("data", "add", "tables", cwd=root).returncode == 0
    version = read_pointer(root / "tables.parity").data_version

    passed = run_parity("data", "validate", "tables/good.csv", "--schema", "people.yaml", cwd=root)
    assert passed.returncode == 0, passed.stderr
    assert "3 rows passed; recorded as" in passed.stdout
    assert f"on data version {version[:12]}" in passed.stdout

    failed = run_parity("data", "validate", "tables/bad.csv", "--schema", "people.yaml", cwd=root)
    assert failed.returncode == 1
    assert failed.stderr.strip() == "error: tables/bad.csv failed 3 checks of people.yaml"
    lines = failed.stdout.splitlines()
    for column, check in (
        ("age", "greater_than_or_equal_to(0)"),
        ("age", "less_than_or_equal_to(130)"),
        ("country", "isin(['DE', 'FR', 'NL'])"),
    ):
        assert any(column in line and check in line for line in lines), failed.stdout

    as_json = run_parity(
        "data", "validate", "tables/bad.csv", "--schema", "people.yaml", "--json", cwd=root
    )
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    assert document["versioned"] is True
    assert document["data_version"] == version
    assert document["ok"] is False
    assert {f["column"] for f in document["failures"]} == {"age", "country"}

    workspace = open_workspace(root, environ={})
    try:
        recorded = data_api.validations(version, workspace=workspace)
    finally:
        workspace.close()
    assert sorted(v.ok for _, v in recorded) == [False, True]
    assert document["record"] in {record_id for record_id, _ in recorded}

    # changed since it was versioned: the verdict is kept on the new content, not the version
    good.write_text(GOOD + "20,NL,1.0\n")
    changed = run_parity(
        "data", "validate", "tables/good.csv", "--schema", "people.yaml", "--json", cwd=root
    )
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["versioned"] is False
    assert json.loads(changed.stdout)["data_version"] == digest_bytes(good.read_bytes())
    assert bad.exists()
