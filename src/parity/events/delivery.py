"""Delivering the outbox: each event to each webhook that wants it, signed, retried with
backoff, every attempt logged.

A round looks at the events not yet settled, oldest first. For each webhook that wants an
event's kind (and existed when it happened) it is *delivered* after a 2xx answer, *given up*
after a 4xx answer other than 408/429 or after ``MAX_ATTEMPTS`` tries, and otherwise *due*
``retry_delay_ms`` after its last failed try (5xx, a timeout, a refused connection). An event
every hook has delivered or given up is settled and not looked at again.

Rounds hold the database's ``event-delivery`` lock, so two processes never send one event at
once; a process killed between a receiver's 2xx and the log's row sends it again later, which
is why delivery is at least once and receivers dedupe by the event id. ``deliver`` runs rounds
until nothing is due within its time budget: a command calls it right after its change with a
few seconds, ``parity events deliver`` and ``monitor watch`` with more.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from parity.core import events as core
from parity.core.events import DeliveryAttempt, Event, Webhook
from parity.events.outbox import EventOutbox

__all__ = ["DeliveryRound", "Sender", "deliver", "deliver_round", "http_sender"]

MAX_ATTEMPTS = 10
RETRY_BASE_MS = 2_000
RETRY_CAP_MS = 15 * 60_000
SEND_TIMEOUT_S = 3.0
_RETRIED_CLIENT_STATUSES = frozenset({408, 425, 429})

# Sends a signed body: (url, body, headers, timeout in seconds) -> the HTTP status. Raises
# OSError (or anything else) when no answer came; the message is logged.
Sender = Callable[[str, bytes, Mapping[str, str], float], int]


_BODY_LIMIT = 4096  # bytes of a receiver's answer read (and dropped): only the status counts


def http_sender(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
    """POST ``body``; the status once the answer's headers came. ``timeout`` bounds the whole
    attempt, not each read: a receiver that drips its headers or body one byte at a time is
    abandoned at the deadline (the request runs on a daemon thread that is left behind)."""
    outcome: list[int | BaseException] = []

    def run() -> None:
        try:
            outcome.append(_post(url, body, headers, timeout, time.monotonic() + timeout))
        except BaseException as exc:  # handed to the caller below
            outcome.append(exc)

    worker = threading.Thread(target=run, name="parity-webhook-send", daemon=True)
    worker.start()
    worker.join(timeout + 1.0)  # the worker stops reading at ``timeout``: a second to close
    if not outcome:
        raise OSError(f"timed out: no complete answer within {timeout:g} s")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _post(
    url: str, body: bytes, headers: Mapping[str, str], timeout: float, deadline: float
) -> int:
    import httpx  # lazy: the HTTP client loads only when an event is sent

    try:
        with httpx.stream(
            "POST", url, content=body, headers=dict(headers), timeout=timeout
        ) as response:
            read = 0
            for chunk in response.iter_raw():
                read += len(chunk)
                if read >= _BODY_LIMIT or time.monotonic() > deadline:
                    break
            return response.status_code
    except httpx.HTTPError as exc:
        raise OSError(f"{type(exc).__name__}: {exc}") from exc


@dataclass
class DeliveryRound:
    """What rounds did: attempts that reached a hook, attempts that failed, and when the next
    retry is due (None: nothing is waiting)."""

    delivered: list[DeliveryAttempt] = field(default_factory=list)
    failed: list[DeliveryAttempt] = field(default_factory=list)
    next_due_ms: int | None = None

    def add(self, other: DeliveryRound) -> None:
        self.delivered.extend(other.delivered)
        self.failed.extend(other.failed)
        self.next_due_ms = other.next_due_ms


def body_of(event: Event) -> bytes:
    return json.dumps(event.payload(), sort_keys=True, separators=(",", ":"), default=str).encode()


def signed_headers(event: Event, body: bytes, secret: str, now_s: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "parity-webhooks/1",
        core.EVENT_HEADER: event.kind,
        core.ID_HEADER: event.id,
        core.TIMESTAMP_HEADER: str(now_s),
        core.SIGNATURE_HEADER: core.signature(secret, now_s, body),
    }


def _state(attempts: list[DeliveryAttempt], max_attempts: int, base_ms: int) -> tuple[str, int]:
    """``("delivered" | "given up" | "due", due time)`` of one event at one hook."""
    if any(a.ok for a in attempts):
        return "delivered", 0
    if not attempts:
        return "due", 0
    last = attempts[-1]
    final = last.status is not None and 300 <= last.status < 500
    if (final and last.status not in _RETRIED_CLIENT_STATUSES) or len(attempts) >= max_attempts:
        return "given up", 0
    return "due", last.time_ms + core.retry_delay_ms(len(attempts), base_ms, RETRY_CAP_MS)


def deliver_round(
    outbox: EventOutbox,
    send: Sender = http_sender,
    timeout_s: float = SEND_TIMEOUT_S,
    max_attempts: int = MAX_ATTEMPTS,
    retry_base_ms: int = RETRY_BASE_MS,
    deadline_s: float | None = None,
) -> DeliveryRound:
    """Send every delivery due now once; settle the events nothing waits for any more."""
    done = DeliveryRound()
    with outbox.meta.exclusive("event-delivery"):
        hooks = outbox.hooks()
        settled: list[str] = []
        for event, attempts in outbox.unsettled():
            waiting = False  # some hook may still get it later
            for hook in hooks:
                if not hook.wants(event.kind) or hook.created_ms > event.time_ms:
                    continue
                tried = [a for a in attempts if a.hook_id == hook.id]
                state, due_ms = _state(tried, max_attempts, retry_base_ms)
                # Past the deadline a round stops sending, once it has made one attempt.
                tried_any = bool(done.delivered or done.failed)
                late = deadline_s is not None and tried_any and time.monotonic() > deadline_s
                if state == "due" and due_ms <= outbox.clock() and not late:
                    limit = timeout_s
                    if deadline_s is not None:  # never hold the lock long past the budget
                        limit = max(0.5, min(timeout_s, deadline_s - time.monotonic()))
                    attempt = _send(outbox, event, hook, len(tried) + 1, send, limit)
                    outbox.log_attempt(attempt)
                    (done.delivered if attempt.ok else done.failed).append(attempt)
                    state, due_ms = _state([*tried, attempt], max_attempts, retry_base_ms)
                if state == "due":
                    waiting = True
                    due_ms = max(due_ms, outbox.clock())
                    done.next_due_ms = min(done.next_due_ms or due_ms, due_ms)
            if not waiting:
                settled.append(event.id)
        outbox.settle(settled)
    return done


def _send(
    outbox: EventOutbox, event: Event, hook: Webhook, number: int, send: Sender, timeout_s: float
) -> DeliveryAttempt:
    def attempt(ok: bool, status: int | None = None, error: str | None = None) -> DeliveryAttempt:
        return DeliveryAttempt(
            event.id, hook.id, hook.url, number, outbox.clock(), ok, status, error
        )

    secret = outbox.environ.get(hook.secret_env)
    if not secret:  # never send an unsigned payload
        return attempt(
            False, error=f"not sent: {hook.secret_env} is not set where events are delivered"
        )
    body = body_of(event)
    headers = signed_headers(event, body, secret, int(time.time()))
    try:
        status = send(hook.url, body, headers, timeout_s)
    except Exception as exc:  # any failure to get an answer is a failed attempt, logged
        return attempt(False, error=str(exc)[:500] or type(exc).__name__)
    return attempt(200 <= status < 300, status, None if 200 <= status < 300 else f"HTTP {status}")


def deliver(
    outbox: EventOutbox,
    budget_s: float,
    send: Sender = http_sender,
    timeout_s: float = SEND_TIMEOUT_S,
    retry_base_ms: int = RETRY_BASE_MS,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryRound:
    """Run rounds until nothing more is due within ``budget_s`` seconds from now: a retry due
    inside the budget is waited for; later ones are left to the next delivery."""
    deadline = time.monotonic() + budget_s
    total = DeliveryRound()
    while True:
        result = deliver_round(
            outbox, send, timeout_s, retry_base_ms=retry_base_ms, deadline_s=deadline
        )
        total.add(result)
        if result.next_due_ms is None:
            return total
        wait_s = max(0.0, (result.next_due_ms - outbox.clock()) / 1000)
        if time.monotonic() + wait_s > deadline:
            return total
        sleep(wait_s)
