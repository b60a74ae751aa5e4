"""A KServe InferenceService for a model server that speaks the Open Inference Protocol.

A custom predictor: KServe runs the exported image as ``kserve-container``, and the container's
``PROTOCOL=v2`` tells KServe the server speaks the Open Inference Protocol (v2), so its
``/v2/models/{name}/infer`` and health endpoints are the ones routed and probed. KServe scales
between ``minReplicas`` and ``maxReplicas`` itself, so no autoscaler comes with it.
"""

from __future__ import annotations

from typing import Any

from parity.deploy.kubernetes import Resources, container
from parity.deploy.served import (
    PORT,
    ServedModel,
    lineage_annotations,
    lineage_labels,
    scrape_annotations,
)

API_VERSION = "serving.kserve.io/v1beta1"
CONTAINER = "kserve-container"  # the name KServe looks for in a custom predictor


def inference_service(model: ServedModel, resources: Resources) -> dict[str, Any]:
    serving = container(model, resources, name=CONTAINER)
    serving["env"] = [{"name": "PROTOCOL", "value": "v2"}, *serving["env"]]
    serving["ports"] = [{"containerPort": PORT, "protocol": "TCP"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        serving[probe]["httpGet"]["port"] = PORT
    return {
        "apiVersion": API_VERSION,
        "kind": "InferenceService",
        "metadata": {
            "name": model.app,
            "labels": lineage_labels(model),
            "annotations": {
                **lineage_annotations(model),
                "serving.kserve.io/enable-prometheus-scraping": "true",
                "prometheus.kserve.io/port": str(PORT),
                "prometheus.kserve.io/path": scrape_annotations()["prometheus.io/path"],
            },
        },
        "spec": {
            "predictor": {
                "minReplicas": resources.replicas,
                "maxReplicas": resources.max_replicas or resources.replicas,
                "labels": lineage_labels(model),
                "annotations": {**lineage_annotations(model), **scrape_annotations()},
                "containers": [serving],
            }
        },
    }


def manifests(model: ServedModel, resources: Resources) -> dict[str, dict[str, Any]]:
    return {"inferenceservice.yaml": inference_service(model, resources)}
