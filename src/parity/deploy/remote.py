"""The deployment ledger and export filings a Parity server keeps, over HTTP.

The server fills in what it can vouch for itself: who recorded (the token's user), when (its
clock) and the environment a version was trained in (from the model's record); the arguments
of the same name are what an embedded workspace writes directly.
"""

from __future__ import annotations

from typing import Any

from parity.core.deployment import Deployment
from parity.core.model import ModelVersion
from parity.deploy.exports import Filing
from parity.store.http.client import ServerClient, segment

__all__ = ["RemoteDeploymentLog", "RemoteExportFiling"]


def _deployment(body: dict[str, Any]) -> Deployment:
    return Deployment(
        place=body["where"],
        name=body["name"],
        version=int(body["version"]),
        model_id=body["model_id"],
        image=body["image"],
        recorded_ms=int(body["since_ms"]),
        recorded_by=body["recorded_by"],
        source=body["source"],
        environment_id=body["environment_id"],
        note=body["note"],
    )


def _version_path(name: str, version: int) -> str:
    return f"/models/{segment(name)}/versions/{int(version)}"


class RemoteDeploymentLog:
    def __init__(self, server: ServerClient) -> None:
        self.server = server

    def record(
        self,
        place: str,
        version: ModelVersion,
        environment_id: str | None,
        image: str | None,
        actor: str,
        source: str,
        note: str | None = None,
    ) -> tuple[Deployment, bool]:
        # Recording what a place already runs changes nothing, so a retried call is harmless.
        answer = self.server.post(
            f"{_version_path(version.name, version.version)}/deployments",
            {
                "where": place,
                "model_id": version.model_id,
                "image": image,
                "source": source,
                "note": note,
            },
            retry=True,
        )
        return _deployment(answer["deployment"]), bool(answer["added"])

    def current(self, name: str | None = None, place: str | None = None) -> list[Deployment]:
        return self._list(name, place, every=False)

    def history(self, name: str | None = None, place: str | None = None) -> list[Deployment]:
        return self._list(name, place, every=True)

    def _list(self, name: str | None, place: str | None, every: bool) -> list[Deployment]:
        params: dict[str, Any] = {"history": "true" if every else "false"}
        if name is not None:
            params["name"] = name
        if place is not None:
            params["where"] = place
        return [_deployment(d) for d in self.server.get("/deployments", params=params)]


class RemoteExportFiling:
    def __init__(self, server: ServerClient) -> None:
        self.server = server

    def file(self, filing: Filing) -> None:
        # Filing an export again changes nothing, so a retried call is harmless.
        self.server.post(
            f"{_version_path(filing.name, filing.version)}/exports",
            {"export_id": filing.export_id},
            retry=True,
        )

    def of_version(self, name: str, version: int) -> list[Filing]:
        return [
            Filing(
                name,
                version,
                f["export_id"],
                f["target"],
                int(f["created_ms"]),
                f["created_by"],
            )
            for f in self.server.get(f"{_version_path(name, version)}/exports")
        ]
