"""deploy export: Kubernetes, KServe and compose manifests that validate offline and carry the
model's lineage, a Dockerfile hadolint finds nothing in, and every file in the lineage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from parity.api import deploy, models
from parity.api.deploy import Resources
from parity.core.ids import digest_bytes
from parity.workspace import Workspace
from tests.conftest import run_parity
from tests.deploy._kserve import validation_errors

HADOLINT = Path(sys.executable).parent / "hadolint"
K8S_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
IMAGE = "registry.example/team/bc:1"


def _export(workspace: Workspace, target: str, folder: Path, **options: Any) -> Any:
    return deploy.export(
        "bc@production", target, folder, image=IMAGE, hashes=False, workspace=workspace, **options
    )


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def test_kubernetes_manifests_validate_and_carry_the_lineage(
    trained_workspace: Workspace, tmp_path: Path
) -> None:
    result = _export(
        trained_workspace, "kubernetes", tmp_path / "k8s", resources=Resources(2, 5, "500m", "1Gi")
    )
    folder = tmp_path / "k8s" / "kubernetes"
    assert sorted(p.name for p in folder.iterdir()) == [
        "deployment.yaml",
        "hpa.yaml",
        "service.yaml",
    ]
    for name in ("deployment.yaml", "service.yaml", "hpa.yaml"):
        for version in K8S_VERSIONS:
            kubernetes_validate.validate(_load(folder / name), version, strict=True)

    version = trained_workspace.registry.resolve("bc/1")
    run = trained_workspace.runs.find(version.run_id or "")
    record = models.record("bc/1", workspace=trained_workspace)
    deployment = _load(folder / "deployment.yaml")
    pod = deployment["spec"]["template"]
    labels, annotations = pod["metadata"]["labels"], pod["metadata"]["annotations"]
    assert labels["parity-ml/model"] == "bc"
    assert labels["parity-ml/model-version"] == "1"
    assert labels["parity-ml/run"] == run.id
    assert annotations["parity-ml/model-id"] == version.model_id
    assert annotations["parity-ml/environment-id"] == record.environment_id
    assert annotations["parity-ml/data-versions"] == run.inputs[0].data_version
    assert annotations["parity-ml/run-id"] == run.id
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    container = pod["spec"]["containers"][0]
    assert container["image"] == IMAGE
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert deployment["metadata"]["annotations"]["parity-ml/model-ref"] == "bc/1"
    assert deployment["spec"]["replicas"] == 2
    assert _load(folder / "hpa.yaml")["spec"]["maxReplicas"] == 5
    assert (
        _load(folder / "service.yaml")["spec"]["selector"]
        == deployment["spec"]["selector"]["matchLabels"]
    )
    assert result.export_id


def test_the_kubernetes_validation_catches_a_wrong_field(
    trained_workspace: Workspace, tmp_path: Path
) -> None:
    _export(trained_workspace, "kubernetes", tmp_path / "k8s")
    deployment = _load(tmp_path / "k8s" / "kubernetes" / "deployment.yaml")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)
    assert not (tmp_path / "k8s" / "kubernetes" / "hpa.yaml").exists()  # no autoscaling asked


def test_the_kserve_inference_service_validates_against_the_crd_schema(
    trained_workspace: Workspace, tmp_path: Path
) -> None:
    _export(trained_workspace, "kserve", tmp_path / "kserve", resources=Resources(1, 3))
    service = _load(tmp_path / "kserve" / "kserve" / "inferenceservice.yaml")
    assert validation_errors(service) == []
    assert service["apiVersion"] == "serving.kserve.io/v1beta1"
    predictor = service["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (1, 3)
    container = predictor["containers"][0]
    assert container["name"] == "kserve-container"
    assert {"name": "PROTOCOL", "value": "v2"} in container["env"]  # the Open Inference Protocol
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert service["metadata"]["annotations"]["parity-ml/model-ref"] == "bc/1"
    # The same schema refuses what KServe does not know.
    predictor["replicas"] = 2
    container["imagePullPolice"] = "Always"
    assert len(validation_errors(service)) == 2


def test_hadolint_finds_nothing_in_the_dockerfile(
    trained_workspace: Workspace, tmp_path: Path
) -> None:
    base = "python:3.11.9-slim@sha256:" + "c" * 64
    _export(trained_workspace, "compose", tmp_path / "c", base_image=base)
    dockerfile = tmp_path / "c" / "Dockerfile"
    lint = subprocess.run(
        [str(HADOLINT), "--no-color", str(dockerfile)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    text = dockerfile.read_text()
    assert f"FROM {base}" in text  # pinned by digest when one is known
    assert "USER 10001" in text
    version = trained_workspace.registry.resolve("bc/1")
    assert f"--model-id {version.model_id}" in text  # the build takes in this model only
    assert "&& parity models verify bc/1" in text  # and fails when the environment differs
    assert text.rstrip().endswith('ENTRYPOINT ["/usr/local/bin/parity-entrypoint"]')
    entrypoint = tmp_path / "c" / "entrypoint.sh"
    assert entrypoint.stat().st_mode & 0o111
    assert "exec parity" in entrypoint.read_text()
    assert "--no-verify-env" not in entrypoint.read_text()  # the gate stays on
    compose = _load(tmp_path / "c" / "compose.yaml")
    service = compose["services"]["bc"]
    assert service["build"] == {"context": "."}
    assert "/v2/health/ready" in " ".join(service["healthcheck"]["test"])
    assert service["labels"]["parity-ml/model-ref"] == "bc/1"


def test_every_exported_file_is_in_the_model_versions_lineage(
    trained_workspace: Workspace, tmp_path: Path
) -> None:
    result = _export(trained_workspace, "kubernetes", tmp_path / "k8s")
    lineage = models.lineage("bc@production", workspace=trained_workspace)
    exported = lineage.of_kind("export")
    assert [n.attributes["id"] for n in exported] == [result.export_id]
    files = {f["path"]: f["digest"] for f in exported[0].attributes["files"]}
    assert set(files) >= {
        "Dockerfile",
        "requirements.txt",
        "entrypoint.sh",
        "model/bundle.json",
        "kubernetes/deployment.yaml",
        "kubernetes/service.yaml",
    }
    for path, digest in files.items():
        content = (tmp_path / "k8s" / path).read_bytes()
        assert digest_bytes(content) == digest
        assert trained_workspace.objects.get_bytes(digest) == content
    # Exporting the same again is the same record, filed once.
    again = _export(trained_workspace, "kubernetes", tmp_path / "k8s")
    assert again.export_id == result.export_id
    assert len(deploy.exports("bc/1", workspace=trained_workspace)) == 1


def test_the_command_writes_the_files_and_exits_1_when_a_package_cannot_be_pinned(
    trained_workspace: Workspace, tmp_path: Path
) -> None:
    done = run_parity(
        "deploy", "export", "bc@production", "--target", "kserve", "-o", "../out",
        "--no-hashes", "--json", cwd=trained_workspace.root,
    )  # fmt: skip
    assert trained_workspace.root.parent == tmp_path
    # This test environment runs Parity from its source tree (editable): no image can pin it.
    assert done.returncode == 1, done.stderr
    assert "not reproducible: parity-ml" in done.stderr
    assert "cannot be built exactly as recorded" in done.stderr
    document = json.loads(done.stdout)
    assert document["model"] == "bc/1"
    assert (tmp_path / "out" / "kserve" / "inferenceservice.yaml").is_file()
    unknown = run_parity(
        "deploy", "export", "nope/1", "-o", str(tmp_path / "x"), cwd=trained_workspace.root
    )
    assert unknown.returncode == 3
    assert "no model named 'nope'" in unknown.stderr
