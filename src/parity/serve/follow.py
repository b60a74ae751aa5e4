"""``--follow-alias``: serve the version an alias names, and switch when the alias moves.

The follower is the server's ASGI app. It sends each request to the app of the version
answering *now* and counts it in flight there; a background task reads the alias every poll
interval and, when it names another version, loads that version beside the one answering, in a
thread of its own, through the same start-up checks (environment verification, golden rows).
Only a version that passed them is switched to, in one step on the event loop: requests that
started on the old version finish on it, later ones go to the new, none waits or fails. The old
version is closed (its prediction log flushed) once its last request has answered.

A version that fails its checks (or whose stored files do not match their digests) is never
served: the follower keeps answering with the version it has, says why (``warn``,
``parity_model_switches_refused``, ``following.refused`` in /health and /metadata) and does not
load that version again until the alias names another one. A load that fails for a passing
reason (a busy database, a registry or store away, a token to renew) is tried again next poll.
An alias that cannot be read (removed, the registry unreachable) leaves the server as it is,
reported the same way; the follower picks up again once the alias can be read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from parity.core.errors import CheckFailed, CorruptObject, NotFoundError, ParityError
from parity.serve.state import ServingState

# Loads version N of the followed model beside the one answering, checked as at start-up;
# raises ParityError (EnvironmentMismatch, ...) for a version that must not be served.
Prepare = Callable[[int], ServingState]
# The version number the alias names now; raises ParityError when it cannot tell.
Target = Callable[[], int]

_log = logging.getLogger("parity.serve")


@dataclass
class _Generation:
    """One loaded version with its app, and how many requests it is answering."""

    state: ServingState
    app: ASGIApp
    in_flight: int = 0
    retired: bool = False
    released: bool = False


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, ParityError) else f"{type(exc).__name__}: {exc}"


class AliasFollower:
    """An ASGI app that answers with the version ``alias`` names, switching when it moves."""

    def __init__(
        self,
        alias: str,
        initial: ServingState,
        *,
        make_app: Callable[[ServingState], ASGIApp],
        target: Target,
        prepare: Prepare,
        poll_interval: float = 2.0,
        report: Callable[[str], None] = _log.info,
        warn: Callable[[str], None] = _log.warning,
        on_switch: Callable[[ServingState], None] | None = None,
    ) -> None:
        self.alias = alias  # as people write it: "churn@production"
        self.poll_interval = poll_interval
        self._make_app, self._target, self._prepare = make_app, target, prepare
        self._report, self._warn, self._on_switch = report, warn, on_switch
        initial.following = self.status
        self._current = _Generation(initial, make_app(initial))
        self.switches = 0
        self.alias_version: int | None = initial.version.version
        self.refused: dict[str, Any] | None = None  # the version the alias names, refused
        self._refused_versions: dict[int, str] = {}
        self.problem: str | None = None  # why the alias cannot be read now
        # One thread reads the registry and loads versions, so the request threads never wait
        # for it; started lazily so a follower built and dropped leaves no thread behind.
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def state(self) -> ServingState:
        """The state of the version answering now."""
        return self._current.state

    def status(self) -> dict[str, Any]:
        """What /health and /metadata show under ``following``."""
        return {
            "alias": self.alias,
            "serving": self._current.state.version.ref,
            "alias_version": self.alias_version,
            "in_sync": self.alias_version == self._current.state.version.version,
            "switches": self.switches,
            "refused": self.refused,
            "problem": self.problem,
            "poll_interval_seconds": self.poll_interval,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        generation = self._current  # this request answers on this version to its end
        generation.in_flight += 1
        try:
            await generation.app(scope, receive, send)
        finally:
            generation.in_flight -= 1
            if generation.retired and generation.in_flight == 0:
                self._release(generation)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start(self) -> None:
        """Start following (on the running event loop): the server's start-up calls it."""
        if self._task is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="parity-follow")
            self._task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self) -> None:
        """Stop following and close the versions loaded (the server's shutdown calls it)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._executor is not None:
            # Waits for a version being loaded and for retired versions' logs to flush.
            await asyncio.to_thread(self._executor.shutdown, True)
            self._executor = None
        self.close()

    def close(self) -> None:
        """Close the version answering and any still draining (their prediction logs flush)."""
        self._current.retired = True
        self._release(self._current, now=True)

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug of ours must not stop the following: log it, go on
                _log.exception("following %s failed", self.alias)

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._executor is None:  # poll() called directly, outside a running server
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="parity-follow")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def poll(self) -> None:
        """Read the alias once; load, check and switch to the version it names if that moved."""
        wanted = await self._read_alias()
        if wanted is None:  # cannot tell now: what was said (a refusal) still holds
            return
        if wanted == self._current.state.version.version:
            self.refused = None
            return
        if wanted in self._refused_versions:
            return  # refused already: not loaded again until the alias names another version
        name = self._current.state.version.name
        try:
            candidate: ServingState = await self._in_thread(self._prepare, wanted)
        except (CheckFailed, CorruptObject, NotFoundError) as exc:  # the version itself: refused
            self._refuse(wanted, _describe(exc))
            return
        except ParityError as exc:  # busy, away, a token to renew: try again next poll
            self._set_problem(f"cannot load {name}/{wanted} now: {_describe(exc)}")
            return
        except Exception as exc:  # the model itself does not load (unpickling, ...): refused
            self._refuse(wanted, _describe(exc))
            return
        if not candidate.readiness.ready:
            await self._in_thread(candidate.close)
            self._refuse(wanted, "; ".join(candidate.readiness.reasons))
            return
        # The alias may have moved again while the version loaded: switch only to what it names.
        if await self._read_alias() != wanted:
            await self._in_thread(candidate.close)
            return
        self._switch(candidate)

    async def _read_alias(self) -> int | None:
        try:
            wanted: int = await self._in_thread(self._target)
        except Exception as exc:
            self._set_problem(
                f"cannot read {self.alias}: {_describe(exc)}; "
                f"still serving {self._current.state.version.ref}"
            )
            return None
        self._set_problem(None)
        if wanted != self.alias_version:
            self._refused_versions.pop(self.alias_version or 0, None)  # it moved: retry later
            self.alias_version = wanted
        return wanted

    def _set_problem(self, problem: str | None) -> None:
        if problem == self.problem:
            return  # said once, not at every poll
        if problem is not None:
            self._warn(problem)
        elif self.problem is not None:
            self._report(f"{self.alias} can be read again")
        self.problem = problem

    def _refuse(self, version: int, reason: str) -> None:
        ref = f"{self._current.state.version.name}/{version}"
        self._refused_versions[version] = reason
        self.refused = {"version": ref, "reason": reason}
        self._current.state.metrics.refused_switches.inc()
        self._warn(
            f"{self.alias} moved to {ref}, which failed its checks: {reason}; "
            f"still serving {self._current.state.version.ref}"
        )

    def _switch(self, candidate: ServingState) -> None:
        """Make ``candidate`` the version answering: one step on the event loop, between
        requests, so each request sees either the old version or the new one whole."""
        candidate.following = self.status
        new = _Generation(candidate, self._make_app(candidate))
        old, self._current = self._current, new
        self.switches += 1
        self.refused = None
        candidate.publish_info()
        candidate.metrics.switches.inc()
        old.retired = True
        if old.in_flight == 0:
            self._release(old)
        self._report(
            f"{self.alias} moved: now serving {candidate.version.ref} "
            f"(was {old.state.version.ref}; switch {self.switches})"
        )
        if self._on_switch is not None:
            on_switch = self._on_switch
            task = asyncio.get_running_loop().create_task(self._in_thread(on_switch, candidate))
            task.add_done_callback(_log_failure)

    def _release(self, generation: _Generation, now: bool = False) -> None:
        """Close a retired version once its last request answered (in the follower's thread,
        as closing waits for its prediction log to flush)."""
        if generation.released:
            return
        generation.released = True
        if now or self._executor is None:
            generation.state.close()
        else:
            self._executor.submit(generation.state.close)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        _log.warning("after the switch: %s", _describe(exc))
