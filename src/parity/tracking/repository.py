"""What a run store is, whichever holds the runs: the SQL ``RunStore`` of an embedded workspace or
the ``RemoteRunStore`` of a team server's client. ``Workspace.runs`` is one of these.

``RunWriter`` is the part a training run writes through; a run in team mode writes through its
journal (``tracking.journal``), which has that part and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from parity.core.launch import Launch
from parity.core.run import Artifact, DataLink, Experiment, Metric, RunPage, RunStatus, RunView

if TYPE_CHECKING:
    from parity.core.run_filter import Expression, SortKey


class RunWriter(Protocol):
    """What happens in a run, as it happens."""

    def log_params(self, run_id: str, params: Mapping[str, object]) -> None: ...

    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None: ...

    def log_metrics(
        self, run_id: str, points: Sequence[Metric], batch: str | None = None
    ) -> None: ...

    def add_data(self, run_id: str, direction: str, links: Iterable[DataLink]) -> None: ...

    def add_artifact(self, run_id: str, artifact: Artifact) -> None: ...

    def set_sources(self, run_id: str, code_id: str | None, environment_id: str | None) -> None: ...

    def end(
        self,
        run_id: str,
        status: RunStatus,
        exit_code: int | None = None,
        *,
        end_ms: int | None = None,
    ) -> None: ...


class RunRepository(RunWriter, Protocol):
    """Runs: made, written, found, searched, deleted and restored."""

    def create(
        self,
        *,
        experiment: str | None,
        name: str | None,
        user: str,
        host: str | None,
        command: Sequence[str],
        parent_id: str | None = None,
        code_id: str | None = None,
        environment_id: str | None = None,
        run_id: str | None = None,
        launch: Launch | None = None,
    ) -> str: ...

    def log_seeds(self, run_id: str, seeds: Mapping[str, object]) -> None: ...

    def views(self, run_ids: Sequence[str]) -> list[RunView]: ...

    def delete(self, run_id: str) -> None: ...

    def restore(self, run_id: str) -> None: ...

    def resolve(self, reference: str) -> str: ...

    def ids_starting(self, prefix: str, limit: int = 6) -> list[str]: ...

    def short_ids(self, run_ids: Iterable[str]) -> dict[str, str]: ...

    def keys(self) -> dict[str, list[str]]: ...

    def experiments(self) -> list[Experiment]: ...

    def find(self, reference: str) -> RunView: ...

    def exists(self, run_id: str) -> bool: ...

    def get(self, run_id: str) -> RunView: ...

    def artifacts(self, run_id: str) -> list[Artifact]: ...

    def runs_that_logged(self, digest: str, kind: str) -> list[str]: ...

    def runs_that_read(self, data_version: str) -> list[str]: ...

    def runs_that_wrote(self, data_version: str) -> list[str]: ...

    def metric_history(self, run_id: str, key: str) -> list[Metric]: ...

    def count_by_status(self) -> dict[str, int]: ...

    def count_metric_points(self, run_id: str) -> int: ...

    def metric_point_counts(self, run_id: str) -> dict[str, int]: ...

    def search(
        self,
        *,
        experiment: str | None = None,
        expression: Expression | None = None,
        sort: Sequence[SortKey] = (),
        limit: int | None = None,
        deleted: bool = False,
    ) -> list[RunView]: ...

    def search_page(
        self,
        *,
        experiment: str | None = None,
        expression: Expression | None = None,
        sort: Sequence[SortKey] = (),
        limit: int = 100,
        deleted: bool = False,
        cursor: str | None = None,
    ) -> RunPage: ...
