"""Reading references out of a record refuses what it cannot read rather than finding nothing."""

from __future__ import annotations

import pytest

from parity.core.errors import UsageError
from parity.core.model import MODEL_FORMAT, MODEL_KIND, MODEL_REFERENCES
from parity.core.profile import PROFILE_REFERENCES
from parity.core.records import StoredRecord
from parity.core.references import Reference, Target, declaration_of, referenced
from parity.core.run import CODE_REFERENCES

DECLARED = {d.kind: d for d in (CODE_REFERENCES, MODEL_REFERENCES, PROFILE_REFERENCES)}


def test_a_kind_nobody_declared_is_refused_not_read_as_naming_nothing() -> None:
    assert declaration_of("model", DECLARED) is MODEL_REFERENCES
    with pytest.raises(UsageError, match="which ids a 'dataset' record references") as info:
        declaration_of("dataset", DECLARED)
    assert info.value.hint == "upgrade Parity: pip install -U parity-ml"


def test_a_newer_format_is_refused() -> None:
    newer = StoredRecord(MODEL_KIND, MODEL_FORMAT + 1, {"training_data": "ab" * 32})
    with pytest.raises(UsageError, match="newer than this Parity understands"):
        MODEL_REFERENCES.of(newer)


def test_a_record_of_another_kind_is_refused() -> None:
    with pytest.raises(UsageError, match="not a model record but a profile record"):
        MODEL_REFERENCES.of(StoredRecord("profile", 1, {"rows": 1}))


@pytest.mark.parametrize(
    "body",
    [
        {"flavor": "sklearn", "files": "model.pkl"},
        {"flavor": "sklearn", "files": ["model.pkl"]},
        {"flavor": "sklearn", "files": [{"digest": 7}]},
        {"flavor": "sklearn", "environment_id": ["ab"]},
    ],
)
def test_a_damaged_body_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(UsageError, match="damaged record"):
        MODEL_REFERENCES.of(StoredRecord(MODEL_KIND, MODEL_FORMAT, body))


def test_absent_fields_reference_nothing() -> None:
    assert MODEL_REFERENCES.of(StoredRecord(MODEL_KIND, MODEL_FORMAT, {"flavor": "x"})) == []
    assert referenced(Target.RUN, None, "run_id") == []
    assert referenced(Target.RUN, "0a" * 16, "run_id") == [
        Reference(Target.RUN, "0a" * 16, "run_id")
    ]
