"""How one server process runs: where it listens, whom it trusts. Passed to worker processes
as JSON in an environment variable, so every uvicorn worker builds the same app."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import orjson

from parity.core.errors import UsageError

OPTIONS_VARIABLE = "PARITY_SERVER_OPTIONS"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Client-and-user pairs the login limiter keeps before it forgets those idle for a minute.
_LIMITER_KEYS = 10_000


@dataclass(frozen=True)
class ServerSettings:
    workspace: str  # the folder of the workspace whose stores are served
    host: str = "127.0.0.1"
    port: int = 8080
    metadata_url: str | None = None
    objects_url: str | None = None
    s3_endpoint_url: str | None = None
    # Extra names the Host header may carry (a load balancer's name); the bind host, and the
    # loopback names when bound to loopback, are always allowed.
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    # CIDRs whose user header (and X-Forwarded-Proto / Forwarded proto) is believed
    trusted_proxies: tuple[str, ...] = ()
    user_header: str | None = None
    max_object_bytes: int = 5 << 30
    login_attempts_per_minute: int = 10
    # Costly requests (drift over ranges of logged inputs) one process runs at once, per user
    # and in all; more are answered 429 (the user's) or 503 (the server's) with Retry-After.
    costly_per_user: int = 2
    costly_in_all: int = 4
    # Set by the start command when the database has no users: every loopback caller acts as
    # this user, with the admin role, as the embedded workspace's user does.
    local_user: str | None = None
    # Make the web UI's cookies Secure whatever the request's scheme (a TLS proxy in front that
    # is not a --trusted-proxy, or one that sets no X-Forwarded-Proto).
    secure_cookies: bool = False
    # OSV advisories (PyPI/all.zip or a folder of OSV JSON files) the environment pages audit
    # against, read offline; None: the pages show no audit.
    advisories: str | None = None

    def __post_init__(self) -> None:
        for cidr in self.trusted_proxies:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise UsageError(
                    f"--trusted-proxy {cidr!r} is not a network", hint="write it as 10.0.0.0/8"
                ) from exc
        if self.trusted_proxies and not self.user_header:
            raise UsageError(
                "--trusted-proxy needs --user-header",
                hint="name the header your proxy sets, e.g. --user-header X-Forwarded-User",
            )

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS

    def hosts(self) -> list[str]:
        """The Host header values the server answers."""
        names = {self.host, *self.allowed_hosts}
        if self.loopback:
            names.update(LOOPBACK_HOSTS)
        if self.host in {"0.0.0.0", "::"} and not self.allowed_hosts:  # noqa: S104
            return ["*"]
        return sorted(names)

    def to_json(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def from_json(cls, text: str) -> ServerSettings:
        data: dict[str, Any] = orjson.loads(text)
        for key in ("allowed_hosts", "cors_origins", "trusted_proxies"):
            data[key] = tuple(data.get(key) or ())
        return cls(**data)

    @classmethod
    def from_environment(cls) -> ServerSettings:
        text = os.environ.get(OPTIONS_VARIABLE)
        if not text:
            raise UsageError(
                f"{OPTIONS_VARIABLE} is not set", hint="start the server with 'parity server start'"
            )
        return cls.from_json(text)


@dataclass
class LoginLimiter:
    """At most ``per_minute`` password attempts per client address and user, and
    ``ADDRESS_FACTOR`` times as many per address over all names, per process; and at most
    ``concurrent`` password checks at once (each is ~50 ms of argon2 on a core and 64 MiB)."""

    per_minute: int
    concurrent: int = 2
    attempts: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    # Handlers run in a thread pool: one attempt is counted at a time.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    checks: threading.BoundedSemaphore = field(init=False, repr=False)

    # An address may try this many names per minute, times ``per_minute``.
    ADDRESS_FACTOR: ClassVar[int] = 5

    def __post_init__(self) -> None:
        self.checks = threading.BoundedSemaphore(self.concurrent)

    def allow(self, client: str, user: str, now: float) -> bool:
        with self.lock:
            if len(self.attempts) > _LIMITER_KEYS:
                self._forget_before(now - 60.0)
            recent = [t for t in self.attempts.get((client, user), []) if now - t < 60.0]
            # The address's own row (user "") counts its attempts over every name it tries.
            anyone = [t for t in self.attempts.get((client, ""), []) if now - t < 60.0]
            allowed = (
                len(recent) < self.per_minute
                and len(anyone) < self.per_minute * self.ADDRESS_FACTOR
            )
            if allowed:
                recent.append(now)
                anyone.append(now)
            self.attempts[(client, user)] = recent
            self.attempts[(client, "")] = anyone
            return allowed

    @contextlib.contextmanager
    def checking(self, wait: float) -> Iterator[bool]:
        """Hold one of the ``concurrent`` password-check slots (False: none came free within
        ``wait`` seconds, so a flood of sign-ins queues no more argon2 work than the cores)."""
        got = self.checks.acquire(timeout=wait)
        try:
            yield got
        finally:
            if got:
                self.checks.release()

    def _forget_before(self, cutoff: float) -> None:
        """Drop the pairs with no attempt since ``cutoff``, so guessing many names cannot
        grow the table without bound."""
        for key in [k for k, times in self.attempts.items() if not times or times[-1] < cutoff]:
            del self.attempts[key]
