"""``parity events``: webhooks for registry, monitor and deployment events, and the event log."""

from __future__ import annotations

import datetime as dt

import click

from parity.api import events
from parity.cli.output import JSON_OPTION, print_json, print_table, say


def _when(time_ms: int) -> str:
    return dt.datetime.fromtimestamp(time_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _subject(data: dict[str, object]) -> str:
    ref = data.get("ref") or data.get("model") or ""
    alias = data.get("alias")
    where = data.get("where")
    return f"{ref}" + (f"@{alias}" if alias else "") + (f" at {where}" if where else "")


@click.group("events")
def events_group() -> None:
    """Webhooks for registry, monitor and deployment events; the event and delivery log."""


@events_group.command("list")
@click.option("--kind", type=click.Choice(events.KINDS), help="Only events of this kind.")
@click.option("--failed", is_flag=True, help="Only events a webhook has not received yet.")
@click.option("--limit", default=50, type=click.IntRange(1, 1000), help="At most this many.")
@JSON_OPTION
def list_events(kind: str | None, failed: bool, limit: int, json_output: bool) -> None:
    """List events, newest first, with every delivery attempt."""
    found = events.list(kind, failed=failed, limit=limit)
    if json_output:
        print_json([e.to_dict() for e in found])
        return
    if not found:
        say("no events" + (" with failed deliveries" if failed else ""))
        return
    rows = []
    for item in found:
        event = item.event
        tries = ", ".join(
            f"{a.hook_id}#{a.attempt} " + ("ok" if a.ok else (a.error or "failed"))
            for a in item.attempts
        )
        rows.append(
            (event.id, event.kind, _when(event.time_ms), _subject(dict(event.data)), tries or "-")
        )
    print_table(["id", "kind", "time (UTC)", "subject", "deliveries"], rows)


@events_group.command("deliver")
@click.option(
    "--wait",
    "budget_s",
    default=30.0,
    type=click.FloatRange(0, 3600),
    help="Seconds to wait for retries that fall due meanwhile.",
)
@JSON_OPTION
def deliver(budget_s: float, json_output: bool) -> None:
    """Send every due delivery now (new events and retries whose backoff has passed)."""
    done = events.deliver(budget_s=budget_s)
    if json_output:
        print_json(
            {
                "delivered": [a.to_dict() for a in done.delivered],
                "failed": [a.to_dict() for a in done.failed],
                "next_due_ms": done.next_due_ms,
            }
        )
        return
    say(f"{len(done.delivered)} delivered, {len(done.failed)} failed attempts")
    if done.next_due_ms is not None:
        say(f"next retry due at {_when(done.next_due_ms)} UTC")


@events_group.group("hooks")
def hooks_group() -> None:
    """Add, list and remove webhooks."""


@hooks_group.command("add")
@click.argument("url")
@click.option(
    "--events",
    "kinds",
    required=True,
    help="Comma-separated event kinds, or '*' for all: " + ", ".join(events.KINDS) + ".",
)
@click.option(
    "--secret-env",
    required=True,
    metavar="VAR",
    help="Environment variable holding the signing secret (only its name is stored).",
)
@JSON_OPTION
def add_hook(url: str, kinds: str, secret_env: str, json_output: bool) -> None:
    """Send events of the given kinds to URL, signed with the secret in VAR."""
    hook = events.add_hook(url, kinds, secret_env=secret_env)
    if json_output:
        print_json(hook.to_dict())
        return
    say(f"added {hook.id}: {', '.join(hook.kinds)} -> {hook.url} (signed with ${hook.secret_env})")


@hooks_group.command("list")
@JSON_OPTION
def list_hooks(json_output: bool) -> None:
    """List webhooks."""
    found = events.hooks()
    if json_output:
        print_json([h.to_dict() for h in found])
        return
    if not found:
        say("no webhooks")
        return
    print_table(
        ["id", "url", "events", "secret from", "added by"],
        [(h.id, h.url, ", ".join(h.kinds), f"${h.secret_env}", h.created_by) for h in found],
    )


@hooks_group.command("remove")
@click.argument("hook_id", metavar="HOOK_ID")
def remove_hook(hook_id: str) -> None:
    """Stop sending events to the webhook HOOK_ID (its delivery log stays)."""
    hook = events.remove_hook(hook_id)
    say(f"removed {hook.id} ({hook.url})")
