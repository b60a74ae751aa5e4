"""``parity monitor``: watch served models for input drift, take ground-truth labels for their
predictions and check their performance against the training run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from parity.api import monitor
from parity.cli import completion
from parity.cli.output import JSON_OPTION, print_json, print_table, say, warn
from parity.cli.reports import report_options, write_check_reports
from parity.core.errors import CheckFailed, UsageError


@click.group("monitor")
def monitor_group() -> None:
    """Watch served models."""


@monitor_group.command("drift")
@click.argument("reference", metavar="MODEL_REF", shell_complete=completion.model_references)
@click.option("--since", help="Only inputs logged since: 30m, 24h, 7d or an ISO time.")
@click.option(
    "--reference",
    "training",
    help="Training table, its data version, or a profile id "
    "(default: the profiled input of the model's run).",
)
@click.option("--until", help="Only inputs logged before: 30m, 24h, 7d (ago) or an ISO time.")
@click.option(
    "--baseline",
    metavar="FROM..UNTIL",
    help="Instead of --reference: the inputs served in an earlier window, e.g. 14d..7d.",
)
@click.option(
    "--min-rows", default=100, type=click.IntRange(min=1), help="Fewer rows give no verdict."
)
@click.option("--report", type=click.Path(path_type=Path), help="Also write a Markdown report.")
@JSON_OPTION
@report_options
def drift(
    reference: str,
    since: str | None,
    training: str | None,
    until: str | None,
    baseline: str | None,
    min_rows: int,
    report: Path | None,
    json_output: bool,
    junit_report: Path | None,
    markdown_report: Path | None,
) -> None:
    """Compare MODEL_REF's logged inputs with its training data; exit 1 on drift."""
    window = None
    if baseline is not None:
        start, dots, stop = baseline.partition("..")
        if not (dots and start and stop):
            raise UsageError(
                f"cannot read --baseline {baseline!r}", hint="write FROM..UNTIL: 14d..7d"
            )
        window = (start, stop)
    result = monitor.drift(
        reference,
        reference=training,
        since=since or None,
        until=until or None,
        baseline=window,
        min_rows=min_rows,
    )
    if report is not None:
        report.write_text(result.to_markdown(reference), encoding="utf-8")
    if json_output:
        print_json(result.to_dict())
    elif not result.enough_rows:
        say(f"{result.rows} rows logged; at least {result.min_rows} are needed for a verdict")
    else:
        print_table(
            ["feature", "rows", "PSI", "PSI limit", "KS", "KS limit", "drift"],
            [
                (
                    f.name,
                    f.rows,
                    f"{f.psi:.4f}",
                    f"{f.psi_threshold:.4f}",
                    "-" if f.ks is None else f"{f.ks:.4f}",
                    "-" if f.ks_threshold is None else f"{f.ks_threshold:.4f}",
                    "DRIFT" if f.drifted else "",
                )
                for f in result.features
            ],
            title=f"drift of {reference} over {result.rows} rows",
        )
    write_check_reports(result, f"drift {reference}", junit_report, markdown_report, reference)
    if not result.ok:
        raise CheckFailed(f"input drift in {', '.join(result.drifted)}")


@monitor_group.command("feedback")
@click.argument("reference", metavar="MODEL_REF", shell_complete=completion.model_references)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--request-id-column", default="request_id", show_default=True, help="Column of request ids."
)
@click.option("--label-column", default="label", show_default=True, help="Column of labels.")
@click.option("--row-column", help="Column of the row within a request (requests of many rows).")
@JSON_OPTION
def feedback(
    reference: str,
    file: Path,
    request_id_column: str,
    label_column: str,
    row_column: str | None,
    json_output: bool,
) -> None:
    """Keep FILE's labels (CSV/Parquet: request id -> label) for MODEL_REF's predictions."""
    receipt = monitor.feedback(
        reference,
        file,
        request_id_column=request_id_column,
        label_column=label_column,
        row_column=row_column,
    )
    if json_output:
        print_json(receipt.to_dict())
    else:
        say(f"kept {receipt.stored} of {receipt.received} labels for {reference}")
    if receipt.unknown:
        warn(
            f"{receipt.unknown} labels name a request the prediction log does not hold (not"
            f" sampled, or not served by this model): {', '.join(receipt.unknown_ids)}"
            + (" ..." if receipt.unknown > len(receipt.unknown_ids) else "")
        )
    if receipt.ambiguous:
        warn(
            f"{receipt.ambiguous} labels name a request id several logged predictions share"
            f" (not kept): {', '.join(receipt.ambiguous_ids)}"
            + (" ..." if receipt.ambiguous > len(receipt.ambiguous_ids) else "")
        )
    for hint in receipt.hints:
        warn(f"hint: {hint}")


@monitor_group.command("performance")
@click.argument("reference", metavar="MODEL_REF", shell_complete=completion.model_references)
@click.option("--since", help="Only predictions logged since: 30m, 24h, 7d or an ISO time.")
@click.option("--window", help="Check per window: 30m, 1h, 1d, or N labelled predictions.")
@click.option(
    "--tolerance",
    default=0.05,
    show_default=True,
    type=click.FloatRange(0, 1, max_open=True),
    help="Largest drop from the training run's figure, relative (0.05: 5 %).",
)
@click.option(
    "--min-labels",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="A window with fewer labels is not evaluated.",
)
@click.option("--no-record", is_flag=True, help="Do not keep the result with the model version.")
@JSON_OPTION
def performance(
    reference: str,
    since: str | None,
    window: str | None,
    tolerance: float,
    min_labels: int,
    no_record: bool,
    json_output: bool,
) -> None:
    """Score MODEL_REF's labelled predictions against its training run; exit 1 if worse."""
    result = monitor.performance(
        reference,
        since=since or None,
        window=window or None,
        tolerance=tolerance,
        min_labels=min_labels,
        record=not no_record,
    )
    if json_output:
        print_json(result.to_dict())
    elif not result.evaluated and result.reason:
        say(f"{result.labels} labelled predictions, not evaluated: {result.reason}")
    elif not result.evaluated:
        say(
            f"{result.labels} labelled predictions; a window needs at least"
            f" {result.min_labels} for a verdict (not evaluated). A model server logs only a"
            " sample of its requests (parity serve --log-sample 1.0 logs every one)"
        )
    else:
        print_table(
            ["window from (UTC)", "labels", "metric", "trained", "served", "change", "status"],
            _performance_rows(result),
            title=f"performance of {result.model} ({result.task},"
            f" tolerance {result.tolerance:.0%}): {result.status}",
        )
    if not result.ok:
        raise CheckFailed(
            f"performance degraded: {'; '.join(result.degraded)}",
            hint="see the table; roll back with: parity models rollback NAME@ALIAS -r REASON",
        )


def _performance_rows(result: Any) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for w in result.windows:
        if not w.evaluated:
            status = f"not evaluated: {w.note}" if w.note else "not evaluated"
            rows.append((_when(w.start_ms), w.labels, "-", "-", "-", "-", status))
            continue
        for m in w.metrics:
            rows.append(
                (
                    _when(w.start_ms),
                    w.labels,
                    m.name,
                    f"{m.trained:.4f} ({m.trained_key})",
                    "-" if m.served is None else f"{m.served:.4f}",
                    "-" if m.change is None else f"{m.change:+.1%}",
                    "DEGRADED" if m.degraded else (m.note or "ok"),
                )
            )
    return rows


def _when(time_ms: int) -> str:
    return dt.datetime.fromtimestamp(time_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")


@monitor_group.command("watch")
@click.argument("reference", metavar="MODEL_REF", shell_complete=completion.model_references)
@click.option("--every", default="10m", show_default=True, help="Time between ticks: 30s, 10m, 1h.")
@click.option(
    "--on-alert",
    "on_alert",
    metavar="CMD",
    help="Command run after a tick with alerts (no shell; PARITY_ALERT_* variables say what).",
)
@click.option(
    "--on-alert-timeout",
    default="10m",
    show_default=True,
    help="Stop the on-alert command when it runs longer: 30s, 10m, 1h.",
)
@click.option("--once", is_flag=True, help="Run one tick and exit (1 on an alert): for cron.")
@click.option("--since", help="Each check reads only inputs logged this long before it: 24h.")
@click.option(
    "--reference",
    "training",
    help="Training table, its data version, or a profile id for the drift check.",
)
@click.option(
    "--min-rows", default=100, type=click.IntRange(min=1), help="Fewer rows give no verdict."
)
@JSON_OPTION
def watch(
    reference: str,
    every: str,
    on_alert: str | None,
    on_alert_timeout: str,
    once: bool,
    since: str | None,
    training: str | None,
    min_rows: int,
    json_output: bool,
) -> None:
    """Run MODEL_REF's drift and performance checks on a schedule; on alert, run CMD."""

    def show(tick: monitor.WatchTick) -> None:
        if json_output:
            print_json(tick.to_dict())
            return
        when = _clock(tick.time_ms)
        checks = "; ".join(f"{name}: {outcome}" for name, outcome in tick.checks.items())
        say(f"{when} {reference}: {checks}")
        for alert in tick.alerts:
            say(f"{when} ALERT {alert.kind} ({alert.event_id}): {alert.summary}")
        if tick.command_error is not None:
            warn(tick.command_error)
        elif tick.command_exit is not None:
            say(f"{when} on-alert command exited {tick.command_exit}")

    try:
        ticks = monitor.watch(
            reference,
            every=every,
            on_alert=on_alert,
            on_alert_timeout=on_alert_timeout,
            once=once,
            since=since or None,
            reference=training,
            min_rows=min_rows,
            on_tick=show,
        )
    except KeyboardInterrupt:
        say("stopped watching")
        return
    if once and ticks and ticks[-1].alerted:
        raise CheckFailed(f"{len(ticks[-1].alerts)} alert(s) for {reference}")


def _clock(time_ms: int) -> str:
    return dt.datetime.fromtimestamp(time_ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
