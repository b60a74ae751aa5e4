"""``parity runs``: list, search, show, compare, delete and undelete runs, read a metric's
history, and send what runs could not (``sync``, team mode)."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Mapping
from typing import Any

import click

from parity.api import runs as api_runs
from parity.api import workspace as workspaces
from parity.cli import completion
from parity.cli.groups import AliasedGroup
from parity.cli.output import JSON_OPTION, hint, print_json, print_table, say
from parity.core.errors import StorageError, UsageError
from parity.core.run import RunView
from parity.core.run_filter import keys_of, parse_filter

SHOWN_KEYS = 4
SHORT = ("input", "infra")  # tables whose values are ids, shown by 12 characters
RUN_ARGUMENT = click.argument("run", shell_complete=completion.run_ids)
RUNS_ARGUMENT = click.argument("runs", nargs=-1, required=True, shell_complete=completion.run_ids)


@click.group("runs", cls=AliasedGroup, aliases={"ls": "list", "restore": "undelete"})
def runs_group() -> None:
    """List, search, show, compare, delete and undelete runs; read a metric's history."""


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(run: RunView) -> str:
    if run.end_ms is None:
        return "-"
    seconds = (run.end_ms - run.start_ms) / 1000
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def _number(value: float | None) -> str:
    return "nan" if value is None else f"{value:.6g}"


def _pairs(mapping: Mapping[str, Any], numbers: bool = False, limit: int = SHOWN_KEYS) -> str:
    items = sorted(mapping.items())
    shown = [f"{k}={_number(v) if numbers else v}" for k, v in items[:limit]]
    if len(items) > limit:
        shown.append(f"+{len(items) - limit}")
    return " ".join(shown)


@runs_group.command("list")
@click.option("--experiment", "-e", help="Only runs of this experiment.")
@click.option(
    "--filter",
    "-f",
    "filter_text",
    help="e.g. \"metrics.acc > 0.9 and params.model = 'rf'\" (and, or, not, LIKE).",
)
@click.option(
    "--sort", "-s", "sort_keys", multiple=True, help="KEY or -KEY (descending); repeatable."
)
@click.option("--limit", "-n", type=int, default=50, show_default=True, help="At most N runs.")
@click.option("--deleted", is_flag=True, help="List deleted runs instead.")
@JSON_OPTION
def list_runs(
    experiment: str | None,
    filter_text: str | None,
    sort_keys: tuple[str, ...],
    limit: int,
    deleted: bool,
    json_output: bool,
) -> None:
    """Runs, newest first, or filtered and sorted."""
    with workspaces.open() as workspace:  # once: the runs and their short ids from one store
        found = api_runs.list(
            experiment,
            filter=filter_text,
            sort=list(sort_keys),
            limit=limit,
            deleted=deleted,
            workspace=workspace,
        )
        if json_output:
            print_json([run.to_dict() for run in found])
            return
        if not found:
            say("No runs match." if filter_text or experiment else "No runs yet.")
            if filter_text:
                _hint_unknown_keys(filter_text, api_runs.keys(workspace=workspace))
            return
        short = api_runs.short_ids([run.id for run in found], workspace=workspace)
    print_table(
        ["run", "experiment", "name", "status", "started", "took", "metrics", "params"],
        [
            (
                short[run.id],
                run.experiment,
                run.name or "",
                str(run.status),
                _when(run.start_ms),
                _duration(run),
                _pairs(run.metrics, numbers=True),
                _pairs(run.params),
            )
            for run in found
        ],
    )


def _hint_unknown_keys(filter_text: str, known: Mapping[str, list[str]]) -> None:
    """Say which metric, param or tag of the filter no run has (a typo, most often)."""
    for key in keys_of(parse_filter(filter_text)):
        names = known.get(key.prefix)
        if names is not None and key.name not in names:
            have = ", ".join(names[:10]) + (" …" if len(names) > 10 else "") if names else "none"
            hint(f"no run has {key.prefix}.{key.name}; {key.prefix} some run has: {have}")


@runs_group.command("show")
@RUN_ARGUMENT
@JSON_OPTION
def show(run: str, json_output: bool) -> None:
    """Everything about RUN (an id or id prefix): code, environment, data, params, metrics."""
    with workspaces.open() as workspace:
        view = api_runs.get(run, workspace=workspace)
        if json_output:
            print_json(view.to_dict())
            return
        linked = [i for i in (view.parent_id, view.reproduces) if i]
        short = api_runs.short_ids(linked, workspace=workspace) if linked else {}
    _show(view, short)


def _show(view: RunView, short: Mapping[str, str]) -> None:
    say(f"run          {view.id}" + ("  (deleted)" if view.deleted else ""))
    say(f"experiment   {view.experiment}" + (f"  name {view.name}" if view.name else ""))
    exit_code = "" if view.exit_code is None else f"  exit code {view.exit_code}"
    say(f"status       {view.status}{exit_code}")
    say(f"started      {_when(view.start_ms)}  ended {_when(view.end_ms)}  ({_duration(view)})")
    say(f"by           {view.user} on {view.host or '?'}")
    say(f"command      {' '.join(view.command)}")
    if view.launch is not None:
        variables = " ".join(f"{k}={v}" for k, v in sorted(view.launch.variables.items()))
        say(f"started in   {view.launch.cwd}" + (f"  with {variables}" if variables else ""))
    if view.seeds:
        say(f"seeds        {_pairs(view.seeds, limit=8)}")
    if view.parent_id:
        say(f"parent       {short[view.parent_id]}")
    if view.reproduces:
        say(f"reproduces   {short[view.reproduces]}")
    code = view.code
    if code is None:
        say("code         not in a git repository")
    elif code.get("missing"):
        say(
            f"code         record {code['id'][:12]} is not available here (not in "
            f"{code['looked_in']}): it is in the object store of {code['captured_by']}"
        )
    else:
        dirty = "dirty" if code.get("dirty") else "clean"
        say(f"code         commit {code.get('commit') or '-'}  branch {code.get('branch') or '-'}")
        remote = f"  remote {code['repo_url']}" if code.get("repo_url") else ""
        say(f"             {dirty}  diff {code.get('diff_digest') or '-'}{remote}")
        if code.get("untracked"):
            say(f"             untracked: {', '.join(code['untracked'][:10])}")
        if code.get("untracked_read"):
            kept = ", ".join(f["path"] for f in code["untracked_read"][:10])
            say(f"             untracked files it read, kept: {kept}")
    say(f"environment  {view.environment_id or '-'}")
    for label, links in (("input", view.inputs), ("output", view.outputs)):
        for link in links:
            say(f"{label:<12} {link.path}  data {link.data_version}")
    tables: list[tuple[str, Mapping[str, Any], bool]] = [
        ("param", view.params, False),
        ("metric", view.metrics, True),
        ("tag", view.tags, False),
    ]
    for title, mapping, numbers in tables:
        if mapping:
            print_table(
                [title, "value"],
                [(k, _number(v) if numbers else v) for k, v in sorted(mapping.items())],
            )
    if view.artifacts:
        print_table(
            ["artifact", "kind", "digest", "size"],
            [(a.path, a.kind, a.digest[:12], a.size) for a in view.artifacts],
        )


@runs_group.command("history")
@RUN_ARGUMENT
@click.argument("metric", shell_complete=completion.metric_keys)
@click.option("--csv", "csv_output", is_flag=True, help="Print CSV: step,value,timestamp_ms.")
@JSON_OPTION
def history(run: str, metric: str, csv_output: bool, json_output: bool) -> None:
    """Every logged point of METRIC in RUN, by step (the list shows only the last)."""
    if csv_output and json_output:
        raise UsageError("--csv and --json cannot be combined", hint="pick one")
    points = api_runs.history(run, metric)
    if json_output:
        print_json([point.to_dict() for point in points])
        return
    if csv_output:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["step", "value", "timestamp_ms"])
        writer.writerows(
            (p.step, "nan" if p.value is None else repr(p.value), p.timestamp_ms) for p in points
        )
        return
    print_table(
        ["step", metric, "time"],
        [(p.step, _number(p.value), _when(p.timestamp_ms)) for p in points],
    )


@runs_group.command("compare")
@RUNS_ARGUMENT
@click.option("--all", "show_all", is_flag=True, help="Also show keys that are the same.")
@JSON_OPTION
def compare(runs: tuple[str, ...], show_all: bool, json_output: bool) -> None:
    """RUNS side by side: params, final metrics, data inputs, infrastructure files and
    environment differences."""
    from parity.cli.env_commands import print_differences  # lazy: the env group, on use

    result = api_runs.compare(runs)
    if json_output:
        print_json(result.to_dict())
        return
    short = api_runs.short_ids([r.id for r in result.runs])
    heads = [short[r.id] for r in result.runs]
    for title, rows, numbers in (
        ("param", result.params, False),
        ("metric", result.metrics, True),
        ("input", result.inputs, False),
        ("infra", result.infra, False),
    ):
        shown = [row for row in rows if show_all or row.differs]
        if shown:
            print_table(
                [title, *heads, ""],
                [
                    (
                        row.key,
                        *(
                            "-"
                            if v is None
                            else (_number(v) if numbers else str(v)[:12] if title in SHORT else v)
                            for v in row.values
                        ),
                        "≠" if row.differs else "",
                    )
                    for row in shown
                ],
            )
        elif rows:
            say(f"{title}s: the same in every run")
    if any(row.differs for row in result.infra):
        hint(f"parity infra diff {heads[0]} {heads[-1]} shows how the infrastructure files differ")
    for env in result.environments:
        label = f"environment of {short.get(env.run_id, env.run_id)} vs {heads[0]}"
        if env.diff is None:
            say(f"{label}: not recorded")
        elif env.diff.identical:
            say(f"{label}: identical")
        else:
            say(f"{label}:")
            print_differences(env.diff.differences, show_info=show_all)


@runs_group.command("delete")
@RUNS_ARGUMENT
def delete(runs: tuple[str, ...]) -> None:
    """Hide RUNS from lists and searches (parity runs undelete brings them back)."""
    with workspaces.open() as workspace:
        for reference in runs:
            run_id = api_runs.delete(reference, workspace=workspace)
            say(f"deleted run {api_runs.short_ids([run_id], workspace=workspace)[run_id]}")


@runs_group.command("undelete")
@RUNS_ARGUMENT
def undelete(runs: tuple[str, ...]) -> None:
    """Bring deleted RUNS back."""
    with workspaces.open() as workspace:
        for reference in runs:
            run_id = api_runs.undelete(reference, workspace=workspace)
            say(f"undeleted run {api_runs.short_ids([run_id], workspace=workspace)[run_id]}")


@runs_group.command("sync")
@JSON_OPTION
def sync(json_output: bool) -> None:
    """Send the server what runs logged while it could not be reached (team mode)."""
    report = api_runs.sync()
    if json_output:
        print_json(report.to_dict())
    else:
        for delivered in report.delivered:
            state = "sent" if delivered.done else "stopped"
            rejected = f", {delivered.rejected} refused" if delivered.rejected else ""
            say(
                f"run {delivered.run_id[:16]}: {state}: {delivered.entries} writes, "
                f"{delivered.points} metric points{rejected}"
            )
        for run_id in report.live:
            say(f"run {run_id[:16]}: still running; its process sends its journal")
        for run_id in report.other_server:
            say(f"run {run_id[:16]}: its journal is for another server; left as it is")
        if not (report.delivered or report.live or report.other_server):
            say("Nothing to send.")
        if report.rejected:
            hint("the server refused some writes; they are kept beside each journal (.rejected)")
    if report.error is not None:
        left = len(report.left) + sum(1 for d in report.delivered if not d.done)
        raise StorageError(
            f"the server did not take everything: {report.error} ({left} runs not sent)",
            hint="run 'parity runs sync' again when the server answers",
        )
