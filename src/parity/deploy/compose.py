"""A compose file that builds the exported image and runs it on one host, health-checked on the
Open Inference Protocol's readiness endpoint."""

from __future__ import annotations

from typing import Any

from parity.deploy.served import (
    PORT,
    READY_PATH,
    USER_ID,
    ServedModel,
    lineage_annotations,
    lineage_labels,
)

_PROBE = (
    "import urllib.request; "
    f"urllib.request.urlopen('http://127.0.0.1:{PORT}{READY_PATH}', timeout=3)"
)


def compose_file(model: ServedModel) -> dict[str, Any]:
    return {
        "name": f"parity-{model.app}",
        "services": {
            model.app: {
                "build": {"context": "."},
                "image": model.image,
                "user": str(USER_ID),
                "ports": [f"{PORT}:{PORT}"],
                "environment": {"PARITY_IMAGE": model.image},
                "labels": {**lineage_labels(model), **lineage_annotations(model)},
                "healthcheck": {
                    "test": ["CMD", "python", "-c", _PROBE],
                    "interval": "10s",
                    "timeout": "5s",
                    "retries": 3,
                    "start_period": "60s",
                },
                "security_opt": ["no-new-privileges:true"],
                "restart": "unless-stopped",
            }
        },
    }


def manifests(model: ServedModel) -> dict[str, dict[str, Any]]:
    return {"compose.yaml": compose_file(model)}
