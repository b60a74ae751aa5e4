"""Data versioning with the workspace's object store on S3 (moto): packs are uploaded whole and
read back whole, verified entry by entry."""

from __future__ import annotations

from pathlib import Path

from parity.api import data as data_api
from parity.workspace import open_workspace
from tests.data._trees import build_tree, fingerprint, small_chunks


def test_add_checkout_status_fsck_gc_over_an_s3_object_store(
    workspace_dir: Path, s3_bucket: str, s3_endpoint: str
) -> None:
    small_chunks(workspace_dir)
    data = workspace_dir / "data"
    data.mkdir()
    build_tree(data)
    original = fingerprint(data)
    environ = {"PARITY_OBJECTS_URL": s3_bucket, "PARITY_S3_ENDPOINT_URL": s3_endpoint}
    workspace = open_workspace(workspace_dir, environ=environ)
    try:
        added = data_api.add(data, workspace=workspace)
        assert workspace.objects.url.startswith("s3://")
        assert workspace.objects.has(added.data_version)
        (data / "a.csv").unlink()
        (data / "large.bin").write_bytes(b"changed")
        data_api.checkout((data,), force=True, workspace=workspace)
        assert fingerprint(data) == original
        assert data_api.status(workspace=workspace)[0].clean
        assert data_api.fsck(workspace=workspace).ok
        assert data_api.gc(workspace=workspace).delete_versions == []
    finally:
        workspace.close()
