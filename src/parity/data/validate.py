"""Check a table against a pandera schema, and the validation record that keeps the verdict.

Validation is lazy: every failed check is collected and reported (column, check, how many rows
failed, a few examples), not only the first. pandas and pandera are imported only when a table is
actually checked, so the command line stays fast.
"""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError
from parity.core.records import StoredRecord
from parity.core.references import RecordReferences, Reference, Target, referenced

VALIDATION_KIND = "validation"
VALIDATION_FORMAT = 1
MAX_EXAMPLES = 5
_TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class FailedCheck:
    """One check of the schema that some rows (or the table as a whole) failed."""

    column: str | None  # None for a check on the whole table
    check: str
    failure_cases: int
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "check": self.check,
            "failure_cases": self.failure_cases,
            "examples": list(self.examples),
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> FailedCheck:
        return cls(
            document["column"],
            document["check"],
            int(document["failure_cases"]),
            tuple(document["examples"]),
        )


@dataclass(frozen=True)
class Validation:
    """The verdict of one schema on one data version (an immutable record, kind ``validation``)."""

    data_version: str  # the data version id, or the file's content digest when not versioned
    schema_digest: str  # BLAKE3 of the schema file, which is stored as an object too
    rows: int
    failures: tuple[FailedCheck, ...]

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_version": self.data_version,
            "schema_digest": self.schema_digest,
            "ok": self.ok,
            "rows": self.rows,
            "failures": [f.to_dict() for f in self.failures],
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Validation:
        try:
            return cls(
                document["data_version"],
                document["schema_digest"],
                int(document["rows"]),
                tuple(FailedCheck.from_dict(f) for f in document["failures"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"damaged validation record: {exc!r}") from exc

    def to_record(self) -> StoredRecord:
        return StoredRecord(VALIDATION_KIND, VALIDATION_FORMAT, self.to_dict())

    @classmethod
    def from_record(cls, record: StoredRecord) -> Validation:
        return cls.from_dict(
            record.body_of(VALIDATION_KIND, VALIDATION_FORMAT, "validation record")
        )


def validation_references(body: Mapping[str, Any]) -> list[Reference]:
    """The data version checked (or, for a file never versioned, its content digest: no data
    version has that id, so it keeps nothing) and the blob of the schema file."""
    return [
        *referenced(Target.DATA_VERSION, body.get("data_version"), "data_version"),
        *referenced(Target.OBJECT, body.get("schema_digest"), "schema_digest"),
    ]


VALIDATION_REFERENCES = RecordReferences(VALIDATION_KIND, VALIDATION_FORMAT, validation_references)


def load_schema(path: Path) -> Any:
    """A pandera DataFrameSchema from pandera's YAML format, or from a Python file's ``schema``."""
    import pandera.pandas as pa  # lazy: pandas and pandera load only to validate a table

    suffix = path.suffix.lower()
    schema: Any
    if suffix in (".yaml", ".yml"):
        try:
            schema = pa.DataFrameSchema.from_yaml(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"cannot read schema {path}: {exc.strerror}") from exc
        except Exception as exc:  # pandera raises whatever its YAML reader and checks raise
            raise UsageError(
                f"{path} is not a pandera schema: {exc}",
                hint="write it in pandera's YAML format (DataFrameSchema.to_yaml shows one)",
            ) from exc
    elif suffix == ".py":
        try:
            namespace = runpy.run_path(str(path))
        except Exception as exc:  # the user's module may raise anything
            raise UsageError(f"cannot run schema file {path}: {exc}") from exc
        schema = namespace.get("schema")
        if isinstance(schema, type) and issubclass(schema, pa.DataFrameModel):
            schema = schema.to_schema()
    else:
        raise UsageError(
            f"{path.name} is not a schema file Parity reads",
            hint="give a pandera YAML schema (.yaml) or a Python file (.py) defining 'schema'",
        )
    if not isinstance(schema, pa.DataFrameSchema):
        raise UsageError(
            f"{path} does not define a pandera DataFrameSchema",
            hint="assign one to a module-level name 'schema'",
        )
    return schema


def read_table(path: Path) -> Any:
    """A CSV or Parquet file as a pandas DataFrame."""
    import pandas as pd  # lazy: pandas loads only to read a table

    kind = _TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UsageError(f"{path.name} is not a table Parity validates", hint="use CSV or Parquet")
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", hint="give a CSV or Parquet table") from exc


def validate_frame(frame: Any, schema: Any, data_version: str, schema_digest: str) -> Validation:
    """Check ``frame`` against ``schema`` lazily and return every failed check."""
    import pandera.errors  # lazy: pandas and pandera load only to validate a table

    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        failures = failed_checks(exc.failure_cases)
    except pandera.errors.SchemaError as exc:
        failures = (FailedCheck(None, str(exc).splitlines()[0], 1, ()),)
    else:
        failures = ()
    return Validation(data_version, schema_digest, len(frame), failures)


def failed_checks(cases: Any) -> tuple[FailedCheck, ...]:
    """Group pandera's failure-case table by column and check."""
    grouped: dict[tuple[str | None, str], list[str]] = {}
    for row in cases.itertuples(index=False):
        column = None if _missing(row.column) else str(row.column)
        check = str(row.check)
        if check == "column_in_dataframe" and column is None:
            column = str(row.failure_case)  # the missing column is the failure case
        example = _example(row.failure_case, row.index)
        grouped.setdefault((column, check), []).append(example)
    return tuple(
        FailedCheck(column, check, len(examples), tuple(examples[:MAX_EXAMPLES]))
        for (column, check), examples in sorted(
            grouped.items(), key=lambda item: (item[0][0] or "", item[0][1])
        )
    )


def _missing(value: Any) -> bool:
    import pandas as pd  # lazy: pandas loads only to read a table

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list-like failure case is not missing
        return False


def _example(value: Any, index: Any) -> str:
    shown = "null" if _missing(value) else repr(value.item() if hasattr(value, "item") else value)
    return shown if _missing(index) else f"row {index}: {shown}"
