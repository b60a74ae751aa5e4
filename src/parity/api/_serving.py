"""Compose a model server from a workspace: the one place serving meets configuration.

``build`` is the factory uvicorn calls in each worker process; the options travel from
``parity.api.serving.serve`` to the workers in one environment variable, so every worker loads
and checks the model itself before it answers. Not public: ``parity.api.serving`` is the door,
and it imports this module (NumPy) only once the collector is paused.

A server's start-up reads the registry and the run's inputs through ``Workspace.direct_sqlite``
where the embedded database allows (no SQLAlchemy before the first prediction); its prediction
log opens the metadata store with the first rows it writes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.api._models import (
    describe_blocking,
    named_alias,
    resolve_source,
    verify_model_environment,
)
from parity.core.env_rules import Risk
from parity.core.errors import EnvironmentMismatch
from parity.serve.collector import collector_paused_for_startup
from parity.serve.metrics import ServerMetrics
from parity.serve.state import Readiness, ServingState, build_state
from parity.workspace import Workspace, now_ms, open_workspace

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from parity.core.feedback import LabelReceipt
    from parity.core.model import ModelVersion
    from parity.serve.follow import AliasFollower

OPTIONS_VARIABLE = "PARITY_SERVE_OPTIONS"


def environment_readiness(
    workspace: Workspace, reference: str, on_warning: Callable[[str], None]
) -> Readiness:
    """The environment gate: ``EnvironmentMismatch`` (with the differences) where the model is
    not safe to run here; unverified (reported through ``on_warning``) where it recorded none."""
    readiness = Readiness(environment_verified=None)
    source = resolve_source(workspace, reference)
    result = verify_model_environment(workspace, source.record)
    if result is None:
        on_warning(f"{source.label} {source.record.environment_gap()}: serving unverified")
        return readiness
    if not result.ok:
        raise EnvironmentMismatch(
            f"refusing to serve {source.label}: {describe_blocking(result)}",
            result.blocking,
            hint="serve it from its own environment (parity env restore), or --no-verify-env",
        )
    readiness.environment_verified = True
    readiness.environment_report = [
        d.to_dict() for d in result.diff.differences if d.risk > Risk.INFO
    ]
    return readiness


class _LogOnFirstRows:
    """The workspace's prediction log store, opened when the log first writes rows (off the
    request path, in its own thread): the start-up does not wait for the metadata store."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def append_predictions(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.workspace.monitoring.append_predictions(rows)

    def store_labels(self, model: str, labels: Any, now_ms: int) -> LabelReceipt:
        return self.workspace.monitoring.store_labels(model, labels, now_ms)


def training_data_versions(workspace: Workspace, version: ModelVersion) -> tuple[str, ...]:
    """The input data versions of the run that made ``version`` (none without a tracked run)."""
    if version.run_id is None:
        return ()
    connection = workspace.direct_sqlite
    if connection is not None:
        from parity.tracking.direct_inputs import (
            input_data_versions,
        )  # lazy: stdlib sqlite3, only where the embedded database is at this schema

        return input_data_versions(connection, version.run_id)
    from parity.api._lineage import (
        training_data_versions as from_lineage,
    )  # lazy: the tracking store (SQLAlchemy) for a database read through the full store

    return from_lineage(workspace, version)


def serving_state(
    workspace: Workspace,
    reference: str,
    readiness: Readiness,
    sample_rate: float,
    allow_unrestricted_pickle: bool = False,
    metrics: ServerMetrics | None = None,
    alias: str | None = None,
) -> ServingState:
    # The server tags /metadata, /metrics and its prediction log with the data the model was
    # trained on, so drift checks and dashboards know which data version a prediction belongs to.
    data_versions = training_data_versions(workspace, workspace.registry_reads.resolve(reference))
    return build_state(
        workspace.registry_reads,
        workspace.records,
        now_ms,
        reference,
        readiness,
        sample_rate,
        data_versions=data_versions,
        predictions=_LogOnFirstRows(workspace),
        allow_unrestricted_pickle=allow_unrestricted_pickle,
        metrics=metrics,
        alias=alias,
    )


def pinned(workspace: Workspace, reference: str) -> tuple[str, str, str]:
    """``(NAME/VERSION, name, alias)`` for a ``NAME@ALIAS`` to follow: the version it names now,
    so the checks and the load see the same version even if the alias moves between them."""
    name, alias = named_alias(reference, None)
    version = workspace.registry_reads.by_alias(name, alias).version
    return f"{name}/{version}", name, alias


def alias_follower(
    workspace: Workspace,
    reference: str,
    initial: ServingState,
    make_app: Callable[[ServingState], ASGIApp],
    *,
    verify_env: bool,
    sample_rate: float,
    allow_unrestricted_pickle: bool,
    poll_interval: float,
    report: Callable[[str], None],
    warn: Callable[[str], None],
    on_switch: Callable[[ServingState], None] | None = None,
) -> AliasFollower:
    """The app that serves ``initial`` and follows ``reference`` (NAME@ALIAS): a version the
    alias moves to is checked as the first one was (the environment gate unless
    ``verify_env`` is off, then the golden rows) before it answers."""
    from parity.serve.follow import AliasFollower  # lazy: only a server that follows an alias

    name, alias = named_alias(reference, None)

    def target() -> int:
        return workspace.registry.by_alias(name, alias).version

    def prepare(version: int) -> ServingState:
        ref = f"{name}/{version}"
        readiness = (
            environment_readiness(workspace, ref, warn)
            if verify_env
            else Readiness(environment_verified=None)
        )
        return serving_state(
            workspace,
            ref,
            readiness,
            sample_rate,
            allow_unrestricted_pickle,
            metrics=initial.metrics,
            alias=alias,
        )

    return AliasFollower(
        reference,
        initial,
        make_app=make_app,
        target=target,
        prepare=prepare,
        poll_interval=poll_interval,
        report=report,
        warn=warn,
        on_switch=on_switch,
    )


def serving_options(
    workspace_root: Path,
    reference: str,
    readiness: Readiness,
    sample_rate: float,
    max_body_bytes: int,
    allow_unrestricted_pickle: bool = False,
    follow: tuple[str, float, bool] | None = None,
) -> str:
    """The options every worker reads; ``follow`` is (NAME@ALIAS, poll interval, verify_env)
    with --follow-alias, and ``reference`` then the version the alias named at start."""
    return json.dumps(
        {
            "root": str(workspace_root),
            "reference": reference,
            "verified": readiness.environment_verified,
            "report": readiness.environment_report,
            "sample_rate": sample_rate,
            "max_body_bytes": max_body_bytes,
            "allow_unrestricted_pickle": allow_unrestricted_pickle,
            "follow": list(follow) if follow else None,
        }
    )


def build() -> ASGIApp:
    options: dict[str, Any] = json.loads(os.environ[OPTIONS_VARIABLE])
    follow = options.get("follow")
    with collector_paused_for_startup():
        from parity.serve.app import create_app  # lazy: Starlette loads with the collector paused

        workspace = open_workspace(Path(options["root"]))
        readiness = Readiness(options["verified"], options["report"])
        unrestricted = bool(options.get("allow_unrestricted_pickle", False))
        state = serving_state(
            workspace,
            options["reference"],
            readiness,
            options["sample_rate"],
            unrestricted,
            alias=named_alias(follow[0], None)[1] if follow else None,
        )

        def make_app(serving: ServingState) -> ASGIApp:
            return create_app(serving, options["max_body_bytes"])

        if not follow:
            return make_app(state)
        # Each worker follows the alias itself, and says what it did in the server's log.
        log = logging.getLogger("parity.serve")
        return alias_follower(
            workspace,
            follow[0],
            state,
            make_app,
            verify_env=bool(follow[2]),
            sample_rate=options["sample_rate"],
            allow_unrestricted_pickle=unrestricted,
            poll_interval=float(follow[1]),
            report=log.warning,
            warn=log.warning,
        )
