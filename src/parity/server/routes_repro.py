"""Routes of reproduction: which runs re-derived which, with the verdict and the stored report.

A reproduction is kept only when both runs are on the server, the re-run ran the original's
command, and its stored report names this original, this re-run and this verdict; it is dated
by the server's clock. A writer cannot then make a gate read "identical" from an unrelated run
or from a date in the future that later honest verdicts never overtake.
"""

from __future__ import annotations

import orjson
from pydantic import BaseModel, ConfigDict, Field

from parity.core.errors import NotFoundError, UsageError
from parity.core.roles import Role
from parity.core.run import RUN_ID_PATTERN, short_run_id
from parity.repro.store import Reproduction
from parity.repro.verdict import Verdict
from parity.server.dependencies import Context
from parity.server.routing import Route
from parity.server.run_schemas import RunId
from parity.tracking.store import RunStore
from parity.workspace import now_ms

DIGEST_PATTERN = r"^[0-9a-f]{64}$"
VERDICT_PATTERN = "^(" + "|".join(v.value for v in Verdict) + ")$"
# The last millisecond of the year 9999: a time any clock and datetime can hold.
MAX_TIME_MS = 253_402_300_799_999
# The largest report a server reads to check it (a repro's report is a few KB to a few MB).
REPORT_LIMIT = 16 << 20


class ReproductionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    run_id: str = Field(pattern=RUN_ID_PATTERN, description="The reproducing run")
    verdict: str = Field(pattern=VERDICT_PATTERN)
    report: str = Field(pattern=DIGEST_PATTERN, description="The stored report's digest")
    created_ms: int = Field(
        ge=0, le=MAX_TIME_MS, description="Kept for old clients: the server's clock dates it"
    )


class ReproductionBody(BaseModel):
    run_id: str
    original_id: str
    verdict: str
    report: str
    created_ms: int


def _runs(ctx: Context) -> RunStore:
    store = ctx.workspace.runs
    assert isinstance(store, RunStore)  # a server's workspace is embedded: its stores are SQL
    return store


def list_reproductions(run_id: RunId, ctx: Context) -> list[ReproductionBody]:
    """Every reproduction of a run, oldest first."""
    _runs(ctx).require(run_id)
    return [ReproductionBody(**r.to_dict()) for r in ctx.workspace.reproductions.of([run_id])]


def record_reproduction(
    run_id: RunId, request: ReproductionRequest, ctx: Context
) -> ReproductionBody:
    """Keep that ``request.run_id`` reproduced this run (the same again: no change)."""
    workspace = ctx.workspace
    original, rerun = _runs(ctx).get(run_id), _runs(ctx).get(request.run_id)
    if not workspace.objects.has(request.report):
        raise NotFoundError(
            f"no report {request.report[:12]} is stored on this server",
            hint="store the report's object first",
        )
    if rerun.command != original.command or rerun.start_ms < original.start_ms:
        raise UsageError(
            f"run {short_run_id(rerun.id)} is not a re-run of {short_run_id(original.id)}: "
            "it ran another command, or before it",
            hint="record the reproduction 'parity repro' made",
        )
    _check_report(workspace.objects.get_bytes(request.report, REPORT_LIMIT), run_id, request)
    kept = Reproduction(request.run_id, run_id, request.verdict, request.report, now_ms())
    workspace.reproductions.record(kept)
    return ReproductionBody(**kept.to_dict())


def _check_report(content: bytes, original: str, request: ReproductionRequest) -> None:
    try:
        report = orjson.loads(content)
    except orjson.JSONDecodeError:
        report = None
    if (
        not isinstance(report, dict)
        or report.get("original") != original
        or report.get("verdict") != request.verdict
        or request.run_id not in (report.get("runs") or ())
    ):
        raise UsageError(
            f"report {request.report[:12]} is not the report of this reproduction (it must "
            "name the original run, the re-run and the verdict)",
            hint="record the reproduction 'parity repro' made",
        )


W, R = Role.WRITER, Role.READER

ROUTES = (
    Route("GET", "/runs/{run_id}/reproductions", R, list_reproductions,
          "List a run's reproductions", response_model=list[ReproductionBody]),
    Route("POST", "/runs/{run_id}/reproductions", W, record_reproduction,
          "Record a reproduction of a run", response_model=ReproductionBody),
)  # fmt: skip
