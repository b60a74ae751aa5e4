"""Models: save, register, promote, lock, inspect, verify and load them (``parity models``).

>>> import parity                                                       # doctest: +SKIP
>>> version = parity.models.register("0190ab12:model", "churn")         # doctest: +SKIP
>>> parity.models.alias("churn", version.version, "production", reason="beats v2 on AUC")
... # doctest: +SKIP
>>> model = parity.models.load("churn@production")                      # doctest: +SKIP

A model is named ``NAME@ALIAS``, ``NAME/VERSION``, ``NAME`` (its latest version) or, for a model
a run logged that is not registered, ``RUN:PATH``. Every change to the registry is made as the
workspace's actor (``PARITY_USER`` or the login name) and kept in the model's audit trail.
"""

from __future__ import annotations

import builtins
import importlib
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.api._direct import direct_reads
from parity.api._events import deliver_staged
from parity.api._session import session
from parity.core.env_rules import Risk
from parity.core.errors import EnvironmentMismatch, UsageError
from parity.core.model import AuditEvent, ModelRecord, ModelVersion
from parity.workspace import Workspace

if TYPE_CHECKING:
    from parity.api._models import ModelVerification as ModelVerification
    from parity.gate.verdict import GateVerdict
    from parity.registry.comparison import ModelComparison
    from parity.registry.lineage import Lineage as Lineage
    from parity.registry.lineage import LineageNode as LineageNode

# Saving, verifying and loading models (flavors, environment capture, package metadata) load on
# first use, so the commands that only list the registry (`parity models show NAME`) start
# without them.
# (The helpers are named here too, as this module's namespace held them before.)
_LAZY = {
    "ModelVerification": ("parity.api._models", "ModelVerification"),
    "Lineage": ("parity.registry.lineage", "Lineage"),
    "LineageNode": ("parity.registry.lineage", "LineageNode"),
    "GateVerdict": ("parity.gate.verdict", "GateVerdict"),
    "ModelComparison": ("parity.registry.comparison", "ModelComparison"),
    "load_model_record": ("parity.registry.loading", "load_model_record"),
    **{
        helper: ("parity.api._models", helper)
        for helper in (
            "describe",
            "describe_blocking",
            "named_alias",
            "named_version",
            "register_model",
            "resolve_source",
            "save_model",
            "verify_model",
            "verify_model_environment",
        )
    },
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    return getattr(importlib.import_module(module_name), attribute)


# How a rollback's audit reason starts: the trail tells rollbacks from ordinary moves by it.
_ROLLBACK = "rollback: "

__all__ = [
    "EnvironmentMismatchWarning",
    "Lineage",
    "LineageNode",
    "ModelVerification",
    "alias",
    "approve",
    "compare",
    "delete",
    "get",
    "history",
    "lineage",
    "list",
    "load",
    "lock",
    "record",
    "record_verdict",
    "register",
    "rollback",
    "save",
    "unalias",
    "unlock",
    "verify",
    "versions",
]


# Warnings point at the line that loaded the model: check <- load_model_record <- load <- caller.
_CALLER_OF_LOAD = 4


class EnvironmentMismatchWarning(UserWarning):
    """The environment differs from the model's; shown when verification is skipped or mild."""


def save(
    model: object,
    *,
    input_example: Any = None,
    flavor: str | None = None,
    environment_id: str | None = None,
    allow_unrestricted_pickle: bool = False,
    workspace: Workspace | None = None,
) -> tuple[str, ModelRecord]:
    """Store a model with its signature, golden rows and environment; returns (model id, record).

    >>> model_id, record = parity.models.save(model, input_example=rows)   # doctest: +SKIP

    Without ``environment_id`` the current environment is captured and stored with it. To file
    the model under a run, use ``run.log_model`` instead.
    """
    from parity.api._models import save_model  # lazy: see _LAZY

    with session(workspace) as ws:
        return save_model(
            ws,
            model,
            input_example=input_example,
            flavor=flavor,
            environment_id=environment_id,
            allow_unrestricted_pickle=allow_unrestricted_pickle,
        )


def register(
    source: str, name: str, *, description: str | None = None, workspace: Workspace | None = None
) -> ModelVersion:
    """Register the next version of ``name`` from ``RUN[:PATH]`` or a logged model's id prefix.

    >>> parity.models.register("0190ab12", "churn")   # doctest: +SKIP

    ``PATH`` defaults to ``model``; a bare hex prefix names a model id if one matches, else a run.
    """
    from parity.api._models import register_model  # lazy: see _LAZY

    with session(workspace) as ws:
        registered = register_model(ws, source, name, description)
        deliver_staged(ws)
        return registered


def get(reference: str, *, workspace: Workspace | None = None) -> ModelVersion:
    """The version ``NAME@ALIAS``, ``NAME/VERSION`` or ``NAME`` (the latest) names.

    >>> parity.models.get("churn@production").version   # doctest: +SKIP
    """
    with session(workspace) as ws:
        return ws.registry.resolve(reference)


def record(reference: str, *, workspace: Workspace | None = None) -> ModelRecord:
    """The model record (flavor, files, signature, environment) behind a version or ``RUN:PATH``."""
    from parity.api._models import resolve_source  # lazy: see _LAZY

    with session(workspace) as ws:
        return resolve_source(ws, reference).record


def list(*, workspace: Workspace | None = None) -> builtins.list[dict[str, Any]]:
    """Every registered model: ``name``, ``latest_version``, ``aliases`` and ``created_ms``."""
    with session(workspace) as ws, direct_reads(ws) as direct:
        return ws.registry.models() if direct is None else direct.registered_models()


def versions(name: str, *, workspace: Workspace | None = None) -> builtins.list[ModelVersion]:
    """The versions of ``name``, oldest first."""
    with session(workspace) as ws, direct_reads(ws) as direct:
        return ws.registry.versions(name) if direct is None else direct.model_versions(name)


def history(name: str, *, workspace: Workspace | None = None) -> builtins.list[AuditEvent]:
    """Every change to ``name``, oldest first: who, when, what, before, after and why."""
    with session(workspace) as ws:
        return ws.registry.history(name)


def alias(
    name: str,
    version: int | None = None,
    alias: str | None = None,
    *,
    reason: str | None = None,
    force: bool = False,
    workspace: Workspace | None = None,
) -> ModelVersion:
    """Point ``alias`` at a version: ``name`` and ``version``, or ``name`` alone as a reference
    (``NAME/VERSION``, or ``NAME@OTHER`` for the version another alias names). Moving it off a
    locked version needs ``force``.

    >>> parity.models.alias("churn", 3, "production", reason="beats v2")   # doctest: +SKIP
    >>> parity.models.alias("churn@staging", alias="production", reason="QA")  # doctest: +SKIP

    ``force`` is for admins only and is audited as forced. An alias with a ``[promote.ALIAS]``
    table in parity.toml moves only to a version with the approvals and passing gate verdicts
    it asks for (``ConflictError`` naming what is missing, audited as refused); an admin's
    ``force`` passes it, audited as forced.
    """
    from parity.api._models import named_version  # lazy: see _LAZY

    if alias is None:
        raise UsageError("name the alias to set", hint="e.g. alias('churn/3', alias='production')")
    with session(workspace) as ws:
        model, number = named_version(ws, name, version)
        moved = ws.registry.set_alias(model, number, alias, ws.actor(), reason, force=force)
        deliver_staged(ws)
        return moved


def rollback(
    name: str,
    alias: str | None = None,
    *,
    to: int | None = None,
    reason: str,
    force: bool = False,
    workspace: Workspace | None = None,
) -> ModelVersion:
    """Move ``alias`` back to the version it named before its last move, or to version ``to``
    (``name`` alone may be ``NAME@ALIAS``); audited as an alias move whose reason says rollback.

    >>> parity.models.rollback("churn", "production", reason="accuracy fell")  # doctest: +SKIP

    Moving it off a locked version needs ``force`` (admins only, audited as forced); so does
    moving it to a version that lacks what the alias's promotion policy asks for.
    """
    from parity.api._models import named_alias  # lazy: see _LAZY

    if not reason.strip():
        raise UsageError("say why the alias is rolled back", hint="pass --reason TEXT")
    model, alias_name = named_alias(name, alias)
    with session(workspace) as ws:
        current = ws.registry.by_alias(model, alias_name)
        target = (
            to
            if to is not None
            else _previous_version(ws.registry.history(model), alias_name, current.version)
        )
        if target == current.version:
            raise UsageError(
                f"{model}@{alias_name} already names version {target}",
                hint="pass --to VERSION to roll back further",
            )
        moved = ws.registry.set_alias(
            model, target, alias_name, ws.actor(), f"{_ROLLBACK}{reason}", force=force
        )
        deliver_staged(ws)
        return moved


def _previous_version(trail: builtins.list[AuditEvent], alias: str, current: int) -> int:
    """The version ``alias`` named before ``current``, from the audit trail: each move pushes
    a version, each rollback goes back down to the version it moved to, so rolling back twice
    goes two steps back (not back and forth); removing the alias starts over."""
    named: builtins.list[int] = []
    for event in trail:
        after, before = event.after or {}, event.before or {}
        if event.action == "alias" and after.get("alias") == alias:
            version = int(after["version"])
            if (event.reason or "").startswith(_ROLLBACK):
                while named and named[-1] != version:
                    named.pop()
            if not named or named[-1] != version:
                named.append(version)
        elif event.action == "unalias" and before.get("alias") == alias:
            named.clear()
    while named and named[-1] == current:
        named.pop()
    if not named:
        raise UsageError(
            f"the audit trail names no version {alias} had before {current}",
            hint="name the version to move it to with --to VERSION",
        )
    return named[-1]


def approve(
    name: str,
    version: int | None = None,
    *,
    reason: str,
    workspace: Workspace | None = None,
) -> ModelVersion:
    """Approve a version for promotion (``name`` and ``version``, or ``NAME/VERSION`` /
    ``NAME@ALIAS``), as this workspace's user; kept in the audit trail with ``reason``.

    >>> parity.models.approve("churn", 3, reason="reviewed the eval report")  # doctest: +SKIP

    An alias whose ``[promote.ALIAS]`` table in parity.toml asks for ``approvals = N`` moves
    to a version only once N users other than its registrant approved it. The registrant's own
    approval is refused (``ConflictError``, and the refusal is audited); approving twice
    counts once. On a team server only an admin, or a user granted admin on the model, may
    approve.
    """
    from parity.api._models import named_version  # lazy: see _LAZY

    if not reason.strip():
        raise UsageError("say why the version is approved", hint="pass --reason TEXT")
    with session(workspace) as ws:
        model, number = named_version(ws, name, version)
        return ws.registry.approve(model, number, ws.actor(), reason)


def record_verdict(
    name: str,
    verdict: GateVerdict,
    version: int | None = None,
    *,
    workspace: Workspace | None = None,
) -> ModelVersion:
    """Record a gate's verdict (``parity.api.gate.evaluate``) on a version (``NAME/VERSION``,
    ``NAME@ALIAS``, or ``name`` and ``version``), audited as the workspace's user.

    >>> verdict = parity.api.gate.evaluate()                              # doctest: +SKIP
    >>> parity.models.record_verdict("churn/3", verdict)                  # doctest: +SKIP

    A ``[promote.ALIAS]`` table with ``gates = ["NAME"]`` lets the alias move to a version
    only while the last verdict of each named gate recorded on it passed.
    """
    from parity.api._models import named_version  # lazy: see _LAZY

    counts = verdict.counts()
    summary = (
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['error']} not evaluated"
    )
    with session(workspace) as ws:
        model, number = named_version(ws, name, version)
        return ws.registry.record_verdict(
            model, number, verdict.name, str(verdict.status), ws.actor(), summary
        )


def unalias(
    name: str,
    alias: str | None = None,
    *,
    reason: str | None = None,
    force: bool = False,
    workspace: Workspace | None = None,
) -> None:
    """Remove ``alias`` from ``name`` (or ``name`` alone as ``NAME@ALIAS``); from a locked
    version only by an admin with ``force``."""
    from parity.api._models import named_alias  # lazy: see _LAZY

    model, alias_name = named_alias(name, alias)
    with session(workspace) as ws:
        ws.registry.remove_alias(model, alias_name, ws.actor(), reason, force=force)


def lock(
    name: str,
    version: int | None = None,
    *,
    reason: str | None = None,
    workspace: Workspace | None = None,
) -> ModelVersion:
    """Lock a version (``name`` and ``version``, or ``NAME/VERSION`` / ``NAME@ALIAS``): its
    aliases cannot move and it cannot be deleted without ``force``. Returns the version locked.

    >>> parity.models.lock("churn@production", reason="serving")   # doctest: +SKIP
    """
    from parity.api._models import named_version  # lazy: see _LAZY

    with session(workspace) as ws:
        model, number = named_version(ws, name, version)
        ws.registry.lock(model, number, ws.actor(), reason)
        return ws.registry.get(model, number)


def unlock(
    name: str,
    version: int | None = None,
    *,
    reason: str | None = None,
    workspace: Workspace | None = None,
) -> ModelVersion:
    """Unlock a version, named as ``lock`` takes it (admins only). Returns the version."""
    from parity.api._models import named_version  # lazy: see _LAZY

    with session(workspace) as ws:
        model, number = named_version(ws, name, version)
        ws.registry.unlock(model, number, ws.actor(), reason)
        return ws.registry.get(model, number)


def delete(
    name: str,
    version: int | None = None,
    *,
    reason: str | None = None,
    force: bool = False,
    workspace: Workspace | None = None,
) -> ModelVersion:
    """Delete a version, named as ``lock`` takes it; refused while it is locked or holds an
    alias, unless an admin forces. Returns the version deleted."""
    from parity.api._models import named_version  # lazy: see _LAZY

    with session(workspace) as ws:
        model, number = named_version(ws, name, version)
        deleted = ws.registry.get(model, number)
        ws.registry.delete(model, number, ws.actor(), reason, force=force)
        return deleted


def lineage(reference: str, *, workspace: Workspace | None = None) -> Lineage:
    """What made a model: its run, code state, data versions, environment and parent runs.

    >>> parity.models.lineage("churn@production").summary()["commits"]   # doctest: +SKIP
    """
    with session(workspace) as ws:
        from parity.api._lineage import model_lineage  # lazy: it loads the deploy side

        return model_lineage(ws, reference)


def compare(first: str, second: str, *, workspace: Workspace | None = None) -> ModelComparison:
    """Two models side by side: their runs' params and metrics, environments and data inputs."""
    with session(workspace) as ws:
        from parity.api._lineage import compare_sources  # lazy: as for lineage

        return compare_sources(ws, first, second)


def verify(
    reference: str,
    *,
    python: str | Path | None = None,
    threshold: Risk = Risk.HIGH,
    workspace: Workspace | None = None,
) -> ModelVerification:
    """Is this (or ``python``'s) environment safe for the model? A verdict, not an exception.

    >>> parity.models.verify("churn@production").ok   # doctest: +SKIP

    Only the distributions the model needs count at or above ``threshold``. A model with no
    recorded environment raises ``NotFoundError``.
    """
    from parity.api._models import verify_model  # lazy: see _LAZY

    with session(workspace) as ws:
        return verify_model(ws, reference, python, threshold)


def load(
    reference: str,
    *,
    verify_env: bool = True,
    allow_unrestricted_pickle: bool = False,
    workspace: Workspace | None = None,
) -> Any:
    """Load a model, verified byte for byte and checked against this environment.

    >>> model = parity.load_model("churn@production")   # doctest: +SKIP
    >>> model.predict(rows)                              # doctest: +SKIP

    ``reference`` is ``NAME@ALIAS``, ``NAME/VERSION``, ``NAME`` (the latest version) or
    ``RUN:PATH`` (a model logged to a run). Every file is checked against its digest before
    anything is deserialised (``CorruptObject`` otherwise). Then this environment is compared
    with the one the model was made in: a high-risk difference in a package the model needs
    raises ``EnvironmentMismatch`` listing it; with ``verify_env=False`` the model loads with an
    ``EnvironmentMismatchWarning`` instead. Medium and low differences load with that warning.
    A model its flavor could only keep as an unrestricted pickle (saved with
    ``allow_unrestricted_pickle=True``) loads only with that option too.
    """
    from parity.api._models import (  # lazy: see _LAZY
        describe,
        describe_blocking,
        resolve_source,
        verify_model_environment,
    )
    from parity.registry.loading import load_model_record  # lazy: see _LAZY

    with session(workspace) as ws:
        source = resolve_source(ws, reference)
        label = source.label

        def check(record: ModelRecord) -> None:
            result = verify_model_environment(ws, record)
            if result is None:
                warnings.warn(
                    f"{label} {record.environment_gap()}: not verified",
                    EnvironmentMismatchWarning,
                    stacklevel=_CALLER_OF_LOAD,
                )
            elif not result.ok and verify_env:
                raise EnvironmentMismatch(
                    f"this environment is not safe for {label}: {describe_blocking(result)}",
                    result.blocking,
                    hint="restore its environment (parity env restore) or pass verify_env=False",
                )
            elif not result.ok:
                warnings.warn(
                    f"loading {label} in an environment that differs at high risk: "
                    f"{describe_blocking(result)}",
                    EnvironmentMismatchWarning,
                    stacklevel=_CALLER_OF_LOAD,
                )
            elif milder := describe(result.diff.at_or_above(Risk.LOW)):
                # Below the threshold: safe to load, but worth knowing (informational: silent).
                warnings.warn(
                    f"{label} loads in an environment that differs at lower risk: {milder}",
                    EnvironmentMismatchWarning,
                    stacklevel=_CALLER_OF_LOAD,
                )

        return load_model_record(
            ws.records,
            source.model_id,
            check_environment=check,
            allow_unrestricted_pickle=allow_unrestricted_pickle,
        )
