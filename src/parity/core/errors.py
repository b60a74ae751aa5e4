"""The one exception tree of Parity.

Each family matches what the caller does next, and carries the process exit code the command line
uses for it. Every error has a one-line headline and, where one helps, a hint that says what to do.
"""

from __future__ import annotations

from typing import ClassVar


class ParityError(Exception):
    """Base of every error Parity raises on purpose."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(ParityError):
    """Bad usage or bad input: the caller must change what they asked for (exit 2)."""

    exit_code = 2


class AccessDenied(UsageError):
    """A Parity server refused the caller: no token, a bad or expired one, or too small a role
    (exit 2: the caller must log in or ask for a role)."""


class NotFoundError(ParityError):
    """Something named does not exist (exit 3)."""

    exit_code = 3


class CommandNotFound(NotFoundError):
    """The program a command line starts with is not on PATH (``parity run -- CMD``)."""

    def __init__(self, program: str, hint: str | None = None) -> None:
        super().__init__(f"command not found: {program}", hint)
        self.program = program


class AmbiguousReference(UsageError):
    """An id prefix matches more than one record."""


class ConflictError(ParityError):
    """The request clashes with current state: locked, exists, changed concurrently (exit 4)."""

    exit_code = 4


class DatabaseBusy(ConflictError):
    """Other writers held the database: SQLite busy or locked, a PostgreSQL serialization
    failure or deadlock. The same request, retried, can succeed."""


class StorageError(ParityError):
    """A remote, database or file-system operation failed (exit 5)."""

    exit_code = 5


class CorruptObject(StorageError):
    """A stored object does not match its content digest."""

    def __init__(self, digest: str, detail: str) -> None:
        super().__init__(
            f"object {digest} is corrupt: {detail}",
            # A plain pull trusts the local copies; --verify re-hashes them and swaps the bad.
            hint="run 'parity data fsck', then 'parity data pull --verify' to restore it",
        )
        self.digest = digest
        self.detail = detail


class CheckFailed(ParityError):
    """A check (verify, check-lock, fsck, drift) found differences (exit 1)."""

    exit_code = 1


class EnvironmentMismatch(CheckFailed):
    """The environment differs from the one a model needs, at or above the threshold.

    ``differences`` holds the blocking differences (``parity.core.env_rules.Difference``).
    """

    def __init__(self, message: str, differences: tuple[object, ...], hint: str | None = None):
        super().__init__(message, hint)
        self.differences = differences
