"""Deployment values: image references, places, the export record and its round trip."""

from __future__ import annotations

import pytest

from parity.core.deployment import DeployExport, ExportedFile, ImageReference, check_place
from parity.core.errors import UsageError
from parity.core.infra import InfraFile, InfraSnapshot, diff_snapshots

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "name", "tag", "digest"),
    [
        ("bc:1", "bc", "1", None),
        (f"registry.example/team/bc@{DIGEST}", "registry.example/team/bc", None, DIGEST),
        (f"localhost:5000/bc:2@{DIGEST}", "localhost:5000/bc", "2", DIGEST),
    ],
)
def test_image_references_parse(text: str, name: str, tag: str | None, digest: str | None) -> None:
    image = ImageReference.parse(text)
    assert (image.name, image.tag, image.digest) == (name, tag, digest)
    assert str(image) == text


@pytest.mark.parametrize("text", ["", "Bad Name", "bc@sha256:123", "bc:"])
def test_bad_image_references_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="image reference"):
        ImageReference.parse(text)


def test_places_are_short_names() -> None:
    assert check_place("prod-eu") == "prod-eu"
    with pytest.raises(UsageError, match="cannot name where a model runs"):
        check_place("prod eu")


def test_an_export_record_round_trips_and_has_no_clock() -> None:
    export = DeployExport(
        "bc", 1, "a" * 64, "kserve", "bc:1", (ExportedFile("Dockerfile", "b" * 64, 10),)
    )
    again = DeployExport.from_record(export.to_record())
    assert again == export
    assert again.to_record().id == export.to_record().id


def test_infra_snapshots_diff_path_by_path() -> None:
    before = InfraSnapshot(
        ("**",), (InfraFile("a.tf", "1" * 64, 1), InfraFile("b.tf", "2" * 64, 1))
    )
    after = InfraSnapshot(("**",), (InfraFile("b.tf", "3" * 64, 1), InfraFile("c.tf", "4" * 64, 1)))
    assert InfraSnapshot.from_record(after.to_record()) == after
    changes = {c.path: c.status for c in diff_snapshots(before, after)}
    assert changes == {"a.tf": "removed", "b.tf": "modified", "c.tf": "added"}
    assert all(not c.changed for c in diff_snapshots(after, after))
