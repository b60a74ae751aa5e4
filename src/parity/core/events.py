"""Events as values: what happened in the registry, a monitor or a deployment, and how a webhook
payload about it is signed.

An event has a stable id (receivers deliver at least once, so they dedupe by it), a kind from
``KINDS``, a time and a small JSON ``data`` object. A webhook receives the payload
``{"id", "kind", "time", "data"}`` as JSON with two headers: the Unix time the payload was
signed at, and ``v1=`` HMAC-SHA256 (hex) of ``"<timestamp>.<body>"`` under the hook's secret.
A receiver recomputes the signature, compares in constant time and refuses a timestamp outside
its replay window (``check_signature``). Pure: no clock, no I/O; the time is passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from parity.core.errors import UsageError

VERSION_REGISTERED = "model.version_registered"
ALIAS_MOVED = "model.alias_moved"
APPROVAL = "model.approval"
DRIFT_ALERT = "monitor.drift_alert"
PERFORMANCE_ALERT = "monitor.performance_alert"
DEPLOYMENT_RECORDED = "deployment.recorded"
KINDS: tuple[str, ...] = (
    VERSION_REGISTERED,
    ALIAS_MOVED,
    APPROVAL,
    DRIFT_ALERT,
    PERFORMANCE_ALERT,
    DEPLOYMENT_RECORDED,
)
# What a client of a server may report itself: the outcome of a check it ran. Every other kind
# is emitted by the server as it makes the change, so no client can forge one.
REPORTED_KINDS: tuple[str, ...] = (DRIFT_ALERT, PERFORMANCE_ALERT)

TIMESTAMP_HEADER = "Parity-Timestamp"
SIGNATURE_HEADER = "Parity-Signature"
EVENT_HEADER = "Parity-Event"
ID_HEADER = "Parity-Event-Id"
SIGNATURE_SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300  # the replay window a receiver should allow (5 minutes)

_EVENT_ID = re.compile(r"^evt_[0-9a-f]{32}$")
_SECRET_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def check_kinds(kinds: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The event kinds a hook asks for (``"*"`` is every kind), each checked; in ``KINDS``
    order."""
    parts = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    wanted = {part.strip() for part in parts if part.strip()}
    if "*" in wanted:
        return KINDS
    unknown = sorted(wanted - set(KINDS))
    if unknown or not wanted:
        raise UsageError(
            f"unknown event kind {', '.join(unknown)}" if unknown else "no event kind given",
            hint=f"give one or more of {', '.join(KINDS)} (comma-separated), or '*'",
        )
    return tuple(kind for kind in KINDS if kind in wanted)


def check_event_id(event_id: str) -> str:
    if _EVENT_ID.match(event_id) is None:
        raise UsageError(
            f"{event_id!r} is not an event id", hint="event ids are evt_ and 32 hex digits"
        )
    return event_id


def check_secret_variable(name: str) -> str:
    if _SECRET_VARIABLE.match(name) is None:
        raise UsageError(
            f"{name!r} is not an environment variable name",
            hint="name the variable that holds the secret, e.g. --secret-env PARITY_HOOK_SECRET",
        )
    return name


@dataclass(frozen=True)
class Event:
    """Something that happened, as every webhook receives it."""

    id: str
    kind: str
    time_ms: int
    data: Mapping[str, Any] = field(default_factory=dict)
    actor: str | None = None

    def payload(self) -> dict[str, Any]:
        """The JSON object a webhook receives (``time`` in milliseconds since the epoch)."""
        return {"id": self.id, "kind": self.kind, "time": self.time_ms, "data": dict(self.data)}

    def to_dict(self) -> dict[str, Any]:
        return {**self.payload(), "actor": self.actor}

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Event:
        return cls(
            id=str(document["id"]),
            kind=str(document["kind"]),
            time_ms=int(document["time"]),
            data=dict(document.get("data") or {}),
            actor=document.get("actor"),
        )


@dataclass(frozen=True)
class Webhook:
    """Where events of some kinds are sent, and the environment variable holding the secret
    they are signed with (the secret itself is never stored)."""

    id: str
    url: str
    kinds: tuple[str, ...]
    secret_env: str
    created_ms: int
    created_by: str

    def wants(self, kind: str) -> bool:
        return kind in self.kinds

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "kinds": list(self.kinds),
            "secret_env": self.secret_env,
            "created_ms": self.created_ms,
            "created_by": self.created_by,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Webhook:
        return cls(
            id=str(document["id"]),
            url=str(document["url"]),
            kinds=tuple(document["kinds"]),
            secret_env=str(document["secret_env"]),
            created_ms=int(document["created_ms"]),
            created_by=str(document["created_by"]),
        )


@dataclass(frozen=True)
class DeliveryAttempt:
    """One try at sending an event to a hook: the answer's status, or why there was none."""

    event_id: str
    hook_id: str
    url: str
    attempt: int
    time_ms: int
    ok: bool
    status: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "hook_id": self.hook_id,
            "url": self.url,
            "attempt": self.attempt,
            "time_ms": self.time_ms,
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> DeliveryAttempt:
        return cls(
            event_id=str(document["event_id"]),
            hook_id=str(document["hook_id"]),
            url=str(document["url"]),
            attempt=int(document["attempt"]),
            time_ms=int(document["time_ms"]),
            ok=bool(document["ok"]),
            status=None if document.get("status") is None else int(document["status"]),
            error=document.get("error"),
        )


@dataclass(frozen=True)
class EventDeliveries:
    """An event with every attempt to deliver it, oldest first."""

    event: Event
    attempts: tuple[DeliveryAttempt, ...] = ()

    @property
    def failed(self) -> bool:
        """Some hook has had attempts and none of them reached it."""
        reached = {a.hook_id for a in self.attempts if a.ok}
        return any(a.hook_id not in reached for a in self.attempts)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.event.to_dict(),
            "failed": self.failed,
            "deliveries": [a.to_dict() for a in self.attempts],
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> EventDeliveries:
        attempts = tuple(DeliveryAttempt.from_dict(a) for a in document.get("deliveries", ()))
        return cls(Event.from_dict(document), attempts)


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``Parity-Signature`` header of ``body`` signed at ``timestamp`` (Unix seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def check_signature(
    secret: str,
    timestamp: int | str,
    body: bytes,
    signed: str,
    now_s: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether ``signed`` is ``body``'s signature under ``secret`` at ``timestamp``, and that
    timestamp is within ``tolerance_s`` of ``now_s`` (older payloads may be replays)."""
    try:
        moment = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs(now_s - moment) > tolerance_s:
        return False
    expected = signature(secret, moment, body)
    # A header may carry several signatures (a secret being rotated): any one may match.
    offered = [part.strip() for part in str(signed).split(",")]
    return any(hmac.compare_digest(expected, part) for part in offered)


def retry_delay_ms(attempts: int, base_ms: int, cap_ms: int) -> int:
    """How long after its ``attempts``-th failed try a delivery is tried again: doubling from
    ``base_ms``, never longer than ``cap_ms``."""
    return int(min(cap_ms, base_ms * 2 ** max(0, attempts - 1)))
