"""Kubernetes manifests for a model server: Deployment, Service and, when asked, an autoscaler.

The pods are probed on the Open Inference Protocol's health endpoints (ready only once the
environment gate and the golden rows passed), scraped by Prometheus, run as the image's
unprivileged user, and carry the model's lineage in their labels and annotations. A Secret named
``parity-store``, when one exists, gives the server its metadata and object store settings
(``PARITY_METADATA_URL``, ``PARITY_OBJECTS_URL``…); without it the server uses the workspace
built into the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parity.deploy.served import (
    LIVE_PATH,
    PORT,
    READY_PATH,
    USER_ID,
    ServedModel,
    lineage_annotations,
    lineage_labels,
    scrape_annotations,
    selector,
)

STORE_SETTINGS = "parity-store"  # the name of an optional Secret of store settings


@dataclass(frozen=True)
class Resources:
    replicas: int = 1
    max_replicas: int | None = None  # an autoscaler between replicas and this, on CPU
    cpu: str = "250m"
    memory: str = "512Mi"
    target_cpu_percent: int = 70


def _metadata(model: ServedModel) -> dict[str, Any]:
    return {
        "name": model.app,
        "labels": lineage_labels(model),
        "annotations": lineage_annotations(model),
    }


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def container(model: ServedModel, resources: Resources, name: str = "model") -> dict[str, Any]:
    """The serving container: shared by the Deployment and KServe's predictor."""
    return {
        "name": name,
        "image": model.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": [{"name": "PARITY_IMAGE", "value": model.image}],
        "envFrom": [{"secretRef": {"name": STORE_SETTINGS, "optional": True}}],
        # The start-up gate may take a while (loading the model, re-predicting golden rows).
        "startupProbe": _probe(LIVE_PATH, 2, 60),
        "readinessProbe": _probe(READY_PATH, 5, 3),
        "livenessProbe": _probe(LIVE_PATH, 10, 3),
        "resources": {
            "requests": {"cpu": resources.cpu, "memory": resources.memory},
            "limits": {"memory": resources.memory},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "runAsUser": USER_ID,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def deployment(model: ServedModel, resources: Resources) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(model),
        "spec": {
            "replicas": resources.replicas,
            "selector": {"matchLabels": selector(model)},
            "template": {
                "metadata": {
                    "labels": lineage_labels(model),
                    "annotations": {**lineage_annotations(model), **scrape_annotations()},
                },
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": USER_ID,
                        "runAsGroup": USER_ID,
                        "fsGroup": USER_ID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container(model, resources)],
                },
            },
        },
    }


def service(model: ServedModel) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(model),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(model),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def autoscaler(model: ServedModel, resources: Resources) -> dict[str, Any]:
    assert resources.max_replicas is not None
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(model),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": model.app},
            "minReplicas": resources.replicas,
            "maxReplicas": resources.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": resources.target_cpu_percent,
                        },
                    },
                }
            ],
        },
    }


def manifests(model: ServedModel, resources: Resources) -> dict[str, dict[str, Any]]:
    """File name (under ``kubernetes/``) -> the object it holds."""
    found = {"deployment.yaml": deployment(model, resources), "service.yaml": service(model)}
    if resources.max_replicas is not None:
        found["hpa.yaml"] = autoscaler(model, resources)
    return found
