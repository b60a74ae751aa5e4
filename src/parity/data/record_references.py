"""Every kind of record Parity stores, with the declaration of which ids its body references.

Each declaration sits next to its record type; this is the one table of them, keyed by kind. It
lives here because data is the lowest layer that sees every record type (data versions and
validations are data's own, the others are in the core). A kind missing here makes gc refuse to
run (``parity.core.references.declaration_of``); ``tests/data/test_record_references.py`` fails
when a kind is written anywhere without a row here, or names an id its function does not return.
"""

from __future__ import annotations

from collections.abc import Mapping

from parity.core.deployment import EXPORT_REFERENCES
from parity.core.environment import ENVIRONMENT_REFERENCES
from parity.core.infra import INFRA_REFERENCES
from parity.core.model import MODEL_REFERENCES
from parity.core.profile import PROFILE_REFERENCES
from parity.core.references import RecordReferences
from parity.core.run import CODE_REFERENCES
from parity.data.commit_pointers import COMMIT_POINTER_REFERENCES
from parity.data.manifest import DATA_REFERENCES
from parity.data.validate import VALIDATION_REFERENCES

RECORD_REFERENCES: Mapping[str, RecordReferences] = {
    declaration.kind: declaration
    for declaration in (
        CODE_REFERENCES,
        COMMIT_POINTER_REFERENCES,
        DATA_REFERENCES,
        ENVIRONMENT_REFERENCES,
        EXPORT_REFERENCES,
        INFRA_REFERENCES,
        MODEL_REFERENCES,
        PROFILE_REFERENCES,
        VALIDATION_REFERENCES,
    )
}
