import pytest

from parity.core.errors import UsageError
from parity.core.refs import RefKind, parse_reference


@pytest.mark.parametrize(
    ("text", "kind", "fields"),
    [
        ("current", RefKind.CURRENT, {}),
        ("churn@production", RefKind.MODEL_ALIAS, {"name": "churn", "alias": "production"}),
        ("churn-v2/3", RefKind.MODEL_VERSION, {"name": "churn-v2", "version": 3}),
        (
            "0192abcd:model/model.pkl",
            RefKind.RUN_PATH,
            {"id_prefix": "0192abcd", "path": "model/model.pkl"},
        ),
        ("a1b2c3d4e5f6", RefKind.ID, {"id_prefix": "a1b2c3d4e5f6"}),
        ("A1B2", RefKind.ID, {"id_prefix": "a1b2"}),
        ("envs/train.json", RefKind.PATH, {"path": "envs/train.json"}),
        ("fingerprint.json", RefKind.PATH, {"path": "fingerprint.json"}),
    ],
)
def test_reference_forms(text: str, kind: RefKind, fields: dict[str, object]) -> None:
    ref = parse_reference(text)
    assert ref.kind is kind
    for name, value in fields.items():
        assert getattr(ref, name) == value


@pytest.mark.parametrize("text", ["", "   ", "churn/0", "no spaces allowed", "ab"])
def test_bad_references_say_what_is_accepted(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_reference(text)
    assert info.value.exit_code == 2
