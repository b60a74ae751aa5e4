"""Who may do what on a Parity server: three ordered roles and the grants that raise them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from parity.core.errors import UsageError


class Role(enum.IntEnum):
    """Ordered: each role may do everything the roles below it may."""

    READER = 1
    WRITER = 2
    ADMIN = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise UsageError(
                f"unknown role {text!r}", hint="use one of: reader, writer, admin"
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


# Who may approve a model version for promotion (``parity models approve``): an admin of the
# server, or a user granted admin on that one model (its maintainer). Writers register and
# move aliases; an approval is a second pair of eyes, so it takes more than that.
APPROVE = Role.ADMIN


class Scope(enum.StrEnum):
    """What a grant is about: every run of one experiment, or every version of one model."""

    EXPERIMENT = "experiment"
    MODEL = "model"


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a user, the role their token (or account) carries, and the
    grants that raise it for one experiment or one model name."""

    user: str
    role: Role
    grants: Mapping[tuple[Scope, str], Role] = field(default_factory=dict)
    token_id: str | None = None

    def may(self, needed: Role, scope: tuple[Scope, str] | None = None) -> bool:
        """Whether this caller holds ``needed``, globally or through a grant on ``scope``."""
        if self.role >= needed:
            return True
        if scope is None:
            return False
        granted = self.grants.get(scope)
        return granted is not None and granted >= needed
