"""Every record type refuses another kind and a format newer than this Parity, the same way."""

from __future__ import annotations

from typing import Any

import pytest

from parity.core.environment import ENV_FORMAT, ENV_KIND, Environment
from parity.core.errors import UsageError
from parity.core.model import MODEL_FORMAT, MODEL_KIND, ModelRecord
from parity.core.profile import PROFILE_FORMAT, PROFILE_KIND, Profile
from parity.core.records import StoredRecord
from parity.core.run import CODE_FORMAT, CODE_KIND, CodeState

READERS: list[tuple[Any, str, int]] = [
    (Environment, ENV_KIND, ENV_FORMAT),
    (ModelRecord, MODEL_KIND, MODEL_FORMAT),
    (Profile, PROFILE_KIND, PROFILE_FORMAT),
    (CodeState, CODE_KIND, CODE_FORMAT),
]


@pytest.mark.parametrize(("reader", "kind", "newest"), READERS)
def test_a_newer_format_is_refused_with_the_upgrade_hint(
    reader: Any, kind: str, newest: int
) -> None:
    with pytest.raises(UsageError, match="newer than this Parity understands") as info:
        reader.from_record(StoredRecord(kind, newest + 1, {}))
    assert info.value.hint == "upgrade Parity: pip install -U parity-ml"


@pytest.mark.parametrize(("reader", "kind", "newest"), READERS)
def test_another_kind_is_refused_by_name(reader: Any, kind: str, newest: int) -> None:
    with pytest.raises(UsageError, match="but a something-else record"):
        reader.from_record(StoredRecord("something-else", newest, {}))


def test_body_of_hands_back_the_body_of_a_readable_record() -> None:
    record = StoredRecord("thing", 1, {"a": 1})
    assert record.body_of("thing", 2) == {"a": 1}
