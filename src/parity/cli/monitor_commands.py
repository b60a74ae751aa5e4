"""``parity monitor``: watch served models for input drift."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import click

from parity.cli.output import JSON_OPTION, print_json, print_table, say
from parity.core.errors import CheckFailed, UsageError


@click.group("monitor")
def monitor_group() -> None:
    """Watch served models."""


_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: dt.datetime) -> int:
    """``30m``, ``24h``, ``7d`` or an ISO time → milliseconds since the epoch."""
    if match := _DURATION.match(text):
        seconds = int(match[1]) * _UNITS[match[2]]
        return int((now.timestamp() - seconds) * 1000)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"cannot read --since {text!r}", hint="use 30m, 24h, 7d or an ISO time"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


@monitor_group.command("drift")
@click.argument("reference", metavar="MODEL_REF")
@click.option("--since", help="Only inputs logged since: 30m, 24h, 7d or an ISO time.")
@click.option(
    "--reference",
    "training",
    help="Training table, its data version, or a profile id "
    "(default: the profiled input of the model's run).",
)
@click.option(
    "--min-rows", default=100, type=click.IntRange(min=1), help="Fewer rows give no verdict."
)
@click.option("--report", type=click.Path(path_type=Path), help="Also write a Markdown report.")
@JSON_OPTION
def drift(
    reference: str,
    since: str | None,
    training: str | None,
    min_rows: int,
    report: Path | None,
    json_output: bool,
) -> None:
    """Compare MODEL_REF's logged inputs with its training data; exit 1 on drift."""
    from parity.api.monitoring import drift as check
    from parity.workspace import open_workspace

    since_ms = parse_since(since, dt.datetime.now(dt.UTC)) if since else None
    result = check(open_workspace(), reference, training, since_ms, min_rows)
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
    if not result.ok:
        raise CheckFailed(f"input drift in {', '.join(result.drifted)}")
