"""The workspace configuration as a value: parsed from TOML and environment overrides, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from parity.core.errors import UsageError

CONFIG_FORMAT = 1

# The variables that may change where Parity keeps things; all others are ignored.
ENV_OVERRIDES = {
    "PARITY_METADATA_URL": "metadata_url",
    "PARITY_OBJECTS_URL": "objects_url",
    "PARITY_S3_ENDPOINT_URL": "s3_endpoint_url",
    "PARITY_SERVER_URL": "server_url",
}


def masked_url(url: str) -> str:
    """``url`` as it may be shown: a password or token in it replaced by ``***``, as database
    URLs are shown in errors (``s3://key:***@bucket``; a lone user part is taken for a token:
    ``https://***@host``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return url
    user, colon, _secret = userinfo.partition(":")
    shown = f"{user}:***" if colon else "***"
    return f"{scheme}://{shown}@{host}{slash}{path}"


@dataclass(frozen=True)
class Remote:
    name: str
    url: str
    endpoint_url: str | None = None
    region: str | None = None

    def to_dict(self) -> dict[str, str]:
        entry = {"url": self.url}
        if self.endpoint_url:
            entry["endpoint_url"] = self.endpoint_url
        if self.region:
            entry["region"] = self.region
        return entry


@dataclass(frozen=True)
class Config:
    """Where the stores live and which remotes exist. ``None`` means the workspace default."""

    metadata_url: str | None = None
    objects_url: str | None = None
    s3_endpoint_url: str | None = None
    # A Parity server whose stores this workspace uses instead of its own (team mode).
    server_url: str | None = None
    remotes: Mapping[str, Remote] = field(default_factory=dict)
    default_remote: str | None = None
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Config:
        fmt = document.get("parity", {}).get("format", CONFIG_FORMAT)
        if fmt > CONFIG_FORMAT:
            raise UsageError(
                f"config.toml has format {fmt}, newer than this Parity understands",
                hint="upgrade Parity: pip install -U parity-ml",
            )
        core = document.get("core", {})
        remotes: dict[str, Remote] = {}
        for name, entry in document.get("remote", {}).items():
            if not isinstance(entry, Mapping) or "url" not in entry:
                raise UsageError(
                    f"remote {name!r} in config.toml has no url",
                    hint="write it as [remote.NAME] url = '…'",
                )
            remotes[name] = Remote(
                name, str(entry["url"]), entry.get("endpoint_url"), entry.get("region")
            )
        known = {"parity", "core", "remote"}
        return cls(
            metadata_url=core.get("metadata_url"),
            objects_url=core.get("objects_url"),
            s3_endpoint_url=core.get("s3_endpoint_url"),
            server_url=core.get("server_url"),
            remotes=remotes,
            default_remote=core.get("default_remote"),
            sections={k: v for k, v in document.items() if k not in known},
        )

    def to_dict(self) -> dict[str, Any]:
        core = {
            key: value
            for key, value in (
                ("metadata_url", self.metadata_url),
                ("objects_url", self.objects_url),
                ("s3_endpoint_url", self.s3_endpoint_url),
                ("server_url", self.server_url),
                ("default_remote", self.default_remote),
            )
            if value
        }
        document: dict[str, Any] = {"parity": {"format": CONFIG_FORMAT}, "core": core}
        if self.remotes:
            document["remote"] = {name: r.to_dict() for name, r in sorted(self.remotes.items())}
        document.update({k: dict(v) for k, v in self.sections.items()})
        return document

    def with_environment(self, environ: Mapping[str, str]) -> Config:
        """Apply the ``PARITY_*`` overrides found in ``environ``."""
        changes: dict[str, Any] = {
            attr: environ[var] for var, attr in ENV_OVERRIDES.items() if environ.get(var)
        }
        return replace(self, **changes) if changes else self

    def with_overrides(self, **values: str | None) -> Config:
        """This config with the given fields replaced, where a value is given (not None)."""
        changes: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
        return replace(self, **changes) if changes else self

    def section(self, name: str) -> Mapping[str, Any]:
        return self.sections.get(name, {})

    def with_remote(self, remote: Remote, make_default: bool = False) -> Config:
        remotes = dict(self.remotes)
        remotes[remote.name] = remote
        default = remote.name if make_default or not self.default_remote else self.default_remote
        return replace(self, remotes=remotes, default_remote=default)

    def without_remote(self, name: str) -> Config:
        remotes = {k: v for k, v in self.remotes.items() if k != name}
        default = None if self.default_remote == name else self.default_remote
        return replace(self, remotes=remotes, default_remote=default)
