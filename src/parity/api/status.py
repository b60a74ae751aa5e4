"""What a workspace holds, as a plain dictionary (the CLI prints it, the server serves it)."""

from __future__ import annotations

from typing import Any

from parity.workspace import Workspace


def workspace_status(workspace: Workspace) -> dict[str, Any]:
    meta = workspace.meta
    models = workspace.registry.models()
    return {
        "root": str(workspace.root),
        "metadata": {
            "url": meta.url,
            "dialect": meta.dialect,
            "schema": ",".join(meta.schema_revisions()),
        },
        "objects": {"url": workspace.objects.url},
        "records": meta.count_records(),
        "runs": workspace.runs.count_by_status(),
        "models": [
            {"name": m["name"], "latest_version": m["latest_version"], "aliases": m["aliases"]}
            for m in models
        ],
        "remotes": [
            {"name": r.name, "url": r.url, "default": r.name == workspace.config.default_remote}
            for r in workspace.config.remotes.values()
        ],
    }
