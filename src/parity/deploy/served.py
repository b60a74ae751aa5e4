"""The model an export serves, and the labels and annotations every manifest carries for it.

Labels are short (Kubernetes keeps label values to 63 characters of a narrow alphabet) so they
hold names, the version and 12-character ids to select by; annotations hold the full ids. Both
go on every object and on the pods, so ``kubectl get pods -l parity-ml/model-version=3`` and a
look at any pod's annotations lead back to the model's lineage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "parity-ml/"
PORT = 8080
USER_ID = 10001
READY_PATH = "/v2/health/ready"
LIVE_PATH = "/v2/health/live"
METRICS_PATH = "/metrics"
_LABEL_VALUE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class ServedModel:
    """One registered model version, as the manifests name it."""

    name: str
    version: int
    model_id: str
    image: str
    environment_id: str | None = None
    run_id: str | None = None
    data_versions: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    @property
    def app(self) -> str:
        """The objects' name: the model's name as a DNS label (lower case, at most 63)."""
        slug = re.sub(r"[^a-z0-9-]+", "-", self.name.lower()).strip("-")[:63].strip("-")
        return slug or "model"


def _label(value: str) -> str:
    """``value`` as a label value: at most 63 characters, alphanumeric at both ends."""
    return _LABEL_VALUE.sub("-", value)[:63].strip("-_.")


def selector(model: ServedModel) -> dict[str, str]:
    """What the Service and the Deployment select pods by: stable across versions, so a new
    version rolls out under the same objects."""
    return {
        "app.kubernetes.io/name": model.app,
        "app.kubernetes.io/component": "model-server",
    }


def lineage_labels(model: ServedModel) -> dict[str, str]:
    found = {
        **selector(model),
        "app.kubernetes.io/version": str(model.version),
        "app.kubernetes.io/managed-by": "parity",
        f"{PREFIX}model": _label(model.name),
        f"{PREFIX}model-version": str(model.version),
        f"{PREFIX}model-id": model.model_id[:12],
    }
    if model.environment_id:
        found[f"{PREFIX}environment"] = model.environment_id[:12]
    if model.data_versions:
        found[f"{PREFIX}data-version"] = model.data_versions[0][:12]
    if model.run_id:
        found[f"{PREFIX}run"] = _label(model.run_id)
    return found


def lineage_annotations(model: ServedModel) -> dict[str, str]:
    found = {
        f"{PREFIX}model": model.name,
        f"{PREFIX}model-ref": model.ref,
        f"{PREFIX}model-id": model.model_id,
        f"{PREFIX}environment-id": model.environment_id or "",
        f"{PREFIX}data-versions": ",".join(model.data_versions),
        f"{PREFIX}run-id": model.run_id or "",
        f"{PREFIX}lineage": f"parity models lineage {model.ref}",
    }
    return {key: value for key, value in found.items() if value}


def scrape_annotations() -> dict[str, str]:
    """Where Prometheus finds the server's metrics (the common ``prometheus.io`` convention)."""
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(PORT),
        "prometheus.io/path": METRICS_PATH,
    }
