"""Runs as values: the code state record, metric points, artifacts, and the view of a whole run.

The code state is an immutable record in the object store (kind ``code``); everything else about
a run is mutable state in the metadata store, read back as a ``RunView``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from parity.core.errors import NotFoundError, UsageError
from parity.core.ids import is_hex_prefix, resolve_prefix
from parity.core.launch import Launch
from parity.core.records import StoredRecord
from parity.core.references import (
    RecordReferences,
    Reference,
    Target,
    as_object,
    list_at,
    referenced,
)

CODE_KIND = "code"
# Format 2 adds the untracked files the run read (their contents as blobs); a code state with
# none is still written as format 1, so its id, and what older versions read, stay as they were.
CODE_FORMAT = 2
RUN_VIEW_FORMAT = 1
MAX_KEY_LENGTH = 250
MAX_VALUE_LENGTH = 8000
# Messages name a run by 16 characters: the start second and 8 more, nearly all random, so a
# message is unambiguous without asking the store. Lists print the shortest unique prefix
# instead (``RunStore.short_ids``), as the user would type it.
SHORT_RUN_LENGTH = 16
KEY_PATTERN = r"^[A-Za-z0-9_.\-/ ]{1,250}$"
_KEY = re.compile(KEY_PATTERN)
# Experiment names: no slash, no NUL, nothing a path could be made of.
EXPERIMENT_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,199}$"
_EXPERIMENT = re.compile(EXPERIMENT_PATTERN)
# A run id as the store makes it (``parity.core.ids.new_run_id``): 32 lowercase hex characters.
RUN_ID_PATTERN = r"^[0-9a-f]{32}$"
_RUN_ID = re.compile(RUN_ID_PATTERN)


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, text: str) -> RunStatus:
        try:
            return cls(text.lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise UsageError(f"unknown run status {text!r}", hint=f"use one of {names}") from None


def short_run_id(run_id: str) -> str:
    """The form of a run id that error messages and warnings print."""
    return run_id[:SHORT_RUN_LENGTH]


def check_key(key: str, what: str = "key") -> str:
    """Params, metrics and tags are named by short keys the filter language can spell."""
    if not _KEY.match(key):
        raise UsageError(
            f"invalid {what} {key!r}",
            hint=f"use letters, digits, '_', '-', '.', '/' and spaces, at most {MAX_KEY_LENGTH}",
        )
    return key


def check_experiment(name: str) -> str:
    """Experiment names are short words a URL path can carry as they are."""
    if not _EXPERIMENT.match(name):
        raise UsageError(
            f"invalid experiment name {name!r}",
            hint="use letters, digits, '_', '-', '.' and spaces (no '/'), at most 200, "
            "starting with a letter, digit or '_'",
        )
    return name


def check_run_id(run_id: str) -> str:
    """A whole run id, as ``new_run_id`` makes them (a client may choose its run's id)."""
    if not _RUN_ID.match(run_id):
        raise UsageError(f"{run_id!r} is not a run id", hint="a run id is 32 hex characters")
    return run_id


def value_text(value: object) -> str:
    """A param or tag value as stored: text as is, anything else as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) > MAX_VALUE_LENGTH:
        raise UsageError(
            f"value of {len(text)} characters is too long (at most {MAX_VALUE_LENGTH})",
            hint="log long text with log_text or log_artifact instead",
        )
    return text


def run_prefix(reference: str) -> str:
    """The id prefix a person typed, normalised; UsageError when it cannot name a run."""
    prefix = reference.strip().lower()
    if not is_hex_prefix(prefix):
        raise UsageError(
            f"{reference!r} is not a run id", hint="give at least 4 hex characters of it"
        )
    return prefix


def resolve_run(prefix: str, candidates: Sequence[str]) -> str:
    """The one run id of ``candidates`` (ids starting with ``prefix``) that ``prefix`` names."""
    if not candidates:
        raise NotFoundError(
            f"no run has an id starting with {prefix}", hint="list runs: parity runs list"
        )
    return resolve_prefix(prefix, candidates, "run")


def strip_credentials(url: str) -> str:
    """A repository URL without user name, password or token, so no secret reaches a record.

    ``https://user:token@host/repo.git`` becomes ``https://host/repo.git``; scp-like
    ``git@host:repo.git`` keeps its (public) user name, which is not a credential.
    """
    if "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass(frozen=True)
class UntrackedFile:
    """An untracked file the run read (its script, a module it imported, an argument it was
    given): its path relative to the repository root and the blob of its content, or None when
    it was too large to keep."""

    path: str
    digest: str | None
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "digest": self.digest, "size": self.size}

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> UntrackedFile:
        return cls(str(document["path"]), document.get("digest"), int(document.get("size", 0)))


@dataclass(frozen=True)
class CodeState:
    """Where the code came from: enough to check it out again and re-apply what was uncommitted."""

    repo_url: str | None
    commit: str | None
    branch: str | None
    dirty: bool
    diff_digest: str | None  # the blob holding ``git diff HEAD --binary``, when dirty
    untracked: tuple[str, ...] = ()
    untracked_truncated: bool = False
    untracked_read: tuple[UntrackedFile, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "repo_url": self.repo_url,
            "commit": self.commit,
            "branch": self.branch,
            "dirty": self.dirty,
            "diff_digest": self.diff_digest,
            "untracked": list(self.untracked),
            "untracked_truncated": self.untracked_truncated,
        }
        if self.untracked_read:
            document["untracked_read"] = [f.to_dict() for f in self.untracked_read]
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> CodeState:
        return cls(
            repo_url=document.get("repo_url"),
            commit=document.get("commit"),
            branch=document.get("branch"),
            dirty=bool(document.get("dirty", False)),
            diff_digest=document.get("diff_digest"),
            untracked=tuple(document.get("untracked", ())),
            untracked_truncated=bool(document.get("untracked_truncated", False)),
            untracked_read=tuple(
                UntrackedFile.from_dict(f) for f in document.get("untracked_read", ())
            ),
        )

    def to_record(self) -> StoredRecord:
        return StoredRecord(CODE_KIND, CODE_FORMAT if self.untracked_read else 1, self.to_dict())

    @classmethod
    def from_record(cls, record: StoredRecord) -> CodeState:
        return cls.from_dict(record.body_of(CODE_KIND, CODE_FORMAT, "code state record"))


def code_references(body: Mapping[str, Any]) -> list[Reference]:
    """The commit it was at (in the user's repository), the blob of the uncommitted diff and
    the blobs of the untracked files the run read."""
    found = [
        *referenced(Target.COMMIT, body.get("commit"), "commit"),
        *referenced(Target.OBJECT, body.get("diff_digest"), "diff_digest"),
    ]
    for index, item in enumerate(list_at(body, "untracked_read")):
        where = f"untracked_read[{index}]"
        found += referenced(Target.OBJECT, as_object(item, where).get("digest"), f"{where}.digest")
    return found


CODE_REFERENCES = RecordReferences(CODE_KIND, CODE_FORMAT, code_references)


class Metric(NamedTuple):
    """One point of a metric series. ``value`` None stands for NaN (databases disagree on it).

    A named tuple rather than a dataclass: millions are made in training loops.
    """

    key: str
    value: float | None
    step: int
    timestamp_ms: int

    @classmethod
    def of(cls, key: str, value: float, step: int, timestamp_ms: int) -> Metric:
        number = float(value)
        return cls(key, None if math.isnan(number) else number, int(step), int(timestamp_ms))

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "step": self.step, "ts": self.timestamp_ms}


@dataclass(frozen=True)
class Artifact:
    """A file a run produced: a blob digest, or the id of a record (a model) it points at."""

    path: str
    kind: str  # "file" | "model" | "log" | …
    digest: str
    size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class DataLink:
    """A data version a run read (input) or wrote (output), and the path it was at."""

    path: str
    data_version: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "data_version": self.data_version}


@dataclass(frozen=True)
class RunView:
    """Everything known about one run, as read back from the stores."""

    id: str
    experiment: str
    name: str | None
    status: RunStatus
    start_ms: int
    end_ms: int | None
    user: str
    host: str | None
    command: tuple[str, ...]
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float | None] = field(default_factory=dict)  # latest value per key
    tags: Mapping[str, str] = field(default_factory=dict)
    code: Mapping[str, Any] | None = None  # the code state's fields plus its ``id``
    environment_id: str | None = None
    inputs: tuple[DataLink, ...] = ()
    outputs: tuple[DataLink, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    parent_id: str | None = None
    exit_code: int | None = None
    deleted: bool = False
    launch: Launch | None = None  # folder and numerics variables (runs recorded before: None)
    seeds: Mapping[str, str] = field(default_factory=dict)
    reproduces: str | None = None  # the run this one re-derived (``parity repro``)

    @property
    def code_id(self) -> str | None:
        return None if self.code is None else self.code.get("id")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RUN_VIEW_FORMAT,
            "id": self.id,
            "experiment": self.experiment,
            "name": self.name,
            "status": str(self.status),
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "user": self.user,
            "host": self.host,
            "command": list(self.command),
            "params": dict(sorted(self.params.items())),
            "metrics": dict(sorted(self.metrics.items())),
            "tags": dict(sorted(self.tags.items())),
            "code": None if self.code is None else dict(self.code),
            "environment_id": self.environment_id,
            "inputs": [link.to_dict() for link in self.inputs],
            "outputs": [link.to_dict() for link in self.outputs],
            "artifacts": [artifact.to_dict() for artifact in self.artifacts],
            "parent_id": self.parent_id,
            "exit_code": self.exit_code,
            "deleted": self.deleted,
            "launch": None if self.launch is None else self.launch.to_dict(),
            "seeds": dict(sorted(self.seeds.items())),
            "reproduces": self.reproduces,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> RunView:
        """The view ``to_dict`` wrote (as a Parity server sends it: metric values that JSON
        cannot spell, the infinities, come as the strings ``"inf"`` and ``"-inf"``)."""
        return cls(
            id=str(document["id"]),
            experiment=str(document["experiment"]),
            name=document.get("name"),
            status=RunStatus(document["status"]),
            start_ms=int(document["start_ms"]),
            end_ms=document.get("end_ms"),
            user=str(document["user"]),
            host=document.get("host"),
            command=tuple(document.get("command", ())),
            params=dict(document.get("params", {})),
            metrics={k: number_from_json(v) for k, v in document.get("metrics", {}).items()},
            tags=dict(document.get("tags", {})),
            code=document.get("code"),
            environment_id=document.get("environment_id"),
            inputs=tuple(DataLink(**link) for link in document.get("inputs", ())),
            outputs=tuple(DataLink(**link) for link in document.get("outputs", ())),
            artifacts=tuple(Artifact(**artifact) for artifact in document.get("artifacts", ())),
            parent_id=document.get("parent_id"),
            exit_code=document.get("exit_code"),
            deleted=bool(document.get("deleted", False)),
            launch=None if not document.get("launch") else Launch.from_dict(document["launch"]),
            seeds={str(k): str(v) for k, v in (document.get("seeds") or {}).items()},
            reproduces=document.get("reproduces"),
        )


@dataclass(frozen=True)
class Experiment:
    """A name runs are grouped under, made by the first run that names it."""

    name: str
    created_ms: int
    runs: int  # runs not deleted

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "created_ms": self.created_ms, "runs": self.runs}


@dataclass(frozen=True)
class RunPage:
    """One page of a search, and the cursor of the next (None after the last page)."""

    runs: tuple[RunView, ...]
    cursor: str | None


JsonNumber = float | str | None


def number_to_json(value: float | None) -> JsonNumber:
    """A metric value as JSON can carry it: None stands for NaN, the infinities are strings."""
    if value is not None and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def number_from_json(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        number = float(value)  # "inf", "-inf"; anything else is refused by the schema
        return None if math.isnan(number) else number
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{value!r} is not a metric value", hint="send numbers")
    return float(value)


def numbers_to_json(values: Iterable[float | None]) -> list[JsonNumber]:
    return [v if v is None or -math.inf < v < math.inf else number_to_json(v) for v in values]
