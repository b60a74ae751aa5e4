"""Serving: a registered model over HTTP, after its checks pass (``parity serve``).

>>> parity.api.serving.serve("churn@production", port=8080)   # doctest: +SKIP

Or step by step, e.g. to mount the app in another ASGI server:

>>> readiness = parity.api.serving.check("churn@production")               # doctest: +SKIP
>>> state = parity.api.serving.load("churn@production", readiness=readiness)  # doctest: +SKIP
>>> asgi_app = parity.api.serving.app(state)                                 # doctest: +SKIP

Endpoints: /predict, /invocations (MLflow), /v2/... (Open Inference Protocol), /health,
/metadata and /metrics (Prometheus).
"""

from __future__ import annotations

import copy
import ipaddress
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parity.api._session import session
from parity.core.errors import UsageError
from parity.serve.collector import collector_paused_for_startup
from parity.serve.limits import DEFAULT_MAX_BODY_BYTES
from parity.workspace import Workspace

if TYPE_CHECKING:
    import socket

    from starlette.applications import Starlette
    from starlette.types import ASGIApp
    from uvicorn import Config

    from parity.serve.follow import AliasFollower
    from parity.serve.state import Readiness, ServingState

__all__ = ["Listening", "app", "check", "load", "serve"]

DEFAULT_SAMPLE_RATE = 0.1
DEFAULT_POLL_INTERVAL = 2.0  # seconds between reads of a followed alias


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)


def check(
    reference: str,
    *,
    on_warning: Callable[[str], None] = _warn,
    workspace: Workspace | None = None,
) -> Readiness:
    """Refuse (``EnvironmentMismatch``, with the differences) where the model is not safe to run.

    >>> parity.api.serving.check("churn@production").environment_verified   # doctest: +SKIP
    True

    Checks this environment against the model's; a model with no recorded environment is
    reported through ``on_warning`` and comes back unverified (``environment_verified`` None).
    """
    # Runs in the serving process before the model is loaded: with the bytecode cached the check
    # takes ~20 ms here, less than the interference a second process caused (it ran verify beside
    # the model load when that took seconds, but the two processes slowed each other by ~0.08 s).
    from parity.api._serving import environment_readiness  # lazy: NumPy and SQLAlchemy

    with session(workspace) as ws:
        return environment_readiness(ws, reference, on_warning)


def load(
    reference: str,
    *,
    readiness: Readiness | None = None,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    allow_unrestricted_pickle: bool = False,
    workspace: Workspace | None = None,
) -> ServingState:
    """Load the model behind ``reference`` for serving (verified byte for byte), golden-checked.

    ``readiness`` is what ``check`` returned (default: unverified). ``sample_rate`` is the
    fraction of requests whose rows are logged for drift checks. A model kept as a plain pickle
    (flavor pyfunc, or an unrestricted scikit-learn pickle) loads only with
    ``allow_unrestricted_pickle``: a plain pickle runs any code it names. Close the state when done.
    """
    from parity.api._serving import serving_state  # lazy: NumPy and SQLAlchemy
    from parity.serve.state import Readiness  # lazy: NumPy and SQLAlchemy

    with session(workspace) as ws:
        return serving_state(
            ws,
            reference,
            readiness or Readiness(environment_verified=None),
            sample_rate,
            allow_unrestricted_pickle,
        )


def app(state: ServingState, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Starlette:
    """The ASGI app that serves a loaded model; a larger request body than
    ``max_body_bytes`` is refused with 413."""
    from parity.serve.app import create_app  # lazy: Starlette

    return create_app(state, max_body_bytes)


@dataclass(frozen=True)
class Listening:
    """What ``serve`` reports once it listens: where, which model, and each gate's verdict."""

    url: str
    model: str
    gates: tuple[tuple[str, str], ...]  # (gate, verdict) in the order they ran
    ready: bool
    following: str | None = None  # the NAME@ALIAS followed (``follow_alias``), else None


def _gates(readiness: Readiness, verify_env: bool) -> tuple[tuple[str, str], ...]:
    if not verify_env:
        environment = "skipped (--no-verify-env): serving unverified"
    elif readiness.environment_verified is None:
        environment = "unverified: the model has no recorded environment"
    elif readiness.environment_verified:
        lower = len(readiness.environment_report)
        environment = "passed: no high-risk difference" + (f" ({lower} lower)" if lower else "")
    else:
        environment = "failed: the environment differs from the model's at high risk"
    golden = readiness.golden
    if golden is None:
        rows = "none stored with the model: nothing to re-predict"
    elif golden.ok:
        rows = f"passed: {golden.rows} rows re-predicted as recorded"
    else:
        rows = f"failed: {golden.reason}"
    return (("environment", environment), ("golden rows", rows))


def _log_config(access_log: bool) -> dict[str, Any]:
    """Uvicorn's logging with its chatter off (warnings and errors only) and, with
    ``access_log``, one line per request on stdout; passed whole, so every worker uses it."""
    from uvicorn.config import LOGGING_CONFIG  # lazy: uvicorn loads only to serve

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn"]["level"] = "WARNING"
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    return config


def _url(config: Config, sock: socket.socket) -> str:
    host = config.host
    port = sock.getsockname()[1]  # the port bound, also when --port 0 let the system pick
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _run(config: Config, on_listening: Callable[[str], None]) -> None:
    """Serve until stopped, calling ``on_listening`` with the URL once the socket is bound."""
    import uvicorn  # lazy: uvicorn loads only to serve
    from uvicorn.supervisors import Multiprocess  # lazy: as above

    if config.workers > 1:
        sock = config.bind_socket()
        on_listening(_url(config, sock))
        Multiprocess(config, sockets=[sock]).run()
        return

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                on_listening(_url(config, self.servers[0].sockets[0]))

    _Server(config).run()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _record_self(
    workspace: Workspace, model: str, place: str, image: str | None, ready: bool
) -> None:
    if not ready:
        _warn(f"not recorded as the deployment at {place}: the server is not ready")
        return
    from parity.api._deployments import (
        record_deployment as record_running,
    )  # lazy: the deployment ledger, only with --record-deployment

    record_running(workspace, model, place, image, "serve", note="parity serve")


def serve(
    reference: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    verify_env: bool = True,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    access_log: bool = False,
    on_warning: Callable[[str], None] = _warn,
    on_ready: Callable[[Listening], None] | None = None,
    record_deployment: str | None = None,
    deployment_image: str | None = None,
    allow_unrestricted_pickle: bool = False,
    follow_alias: bool = False,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    on_switch: Callable[[str], None] | None = None,
    workspace: Workspace | None = None,
) -> None:
    """Check, load and serve ``reference`` over HTTP until stopped (blocks).

    >>> parity.api.serving.serve("churn@production", host="0.0.0.0", workers=4)  # doctest: +SKIP

    With ``verify_env=False`` the environment check is skipped and the server says so. Anything
    worth knowing (no authentication off loopback, unverified, not ready) goes to ``on_warning``;
    ``on_ready`` gets the URL and each gate's verdict once the server listens (port 0: the
    system picks one). ``access_log`` logs one line per request on stdout. With
    ``record_deployment`` (a place, e.g. ``prod-eu``) the server, once it listens and its gate
    passed, records itself as the deployment there (in ``deployment_image`` when given), as
    ``parity deploy record`` would; a restart that changes nothing adds nothing. A model kept
    as a plain pickle is served only with ``allow_unrestricted_pickle`` (see ``load``).

    With ``follow_alias`` (``reference`` is NAME@ALIAS) the server reads the alias every
    ``poll_interval`` seconds; when it names another version, that version is loaded beside
    the one answering, checked as the first was, and answers from then on only once it passed:
    requests already started finish on the old version, none fails. ``on_switch`` hears of each
    switch, ``on_warning`` of a version refused (the old one keeps answering) or an alias that
    cannot be read; a recorded deployment follows the switch. Every answer names the version
    behind it in an ``X-Model-Version`` header.
    """
    if not _is_loopback(host):
        on_warning(f"binding to {host}: the model server has no authentication; put it behind one")
    if follow_alias and "@" not in reference:
        raise UsageError(
            f"--follow-alias follows an alias, and {reference!r} names none",
            hint="serve NAME@ALIAS, e.g. churn@production",
        )
    if poll_interval <= 0:
        raise UsageError("the poll interval must be positive", hint="e.g. --poll-interval 2s")
    with session(workspace) as ws:
        with collector_paused_for_startup():
            import uvicorn  # lazy: the server's libraries load with the collector paused

            from parity.api._serving import (  # lazy: NumPy, SQLAlchemy, collector paused
                OPTIONS_VARIABLE,
                alias_follower,
                pinned,
                serving_options,
                serving_state,
            )
            from parity.serve.app import create_app  # lazy: Starlette, collector paused
            from parity.serve.state import Readiness  # lazy: NumPy, SQLAlchemy, collector paused

            # Following: check and load the version the alias names now, by its number, so the
            # checks and the load see one version even if the alias moves in between.
            served, alias = reference, None
            if follow_alias:
                served, _, alias = pinned(ws, reference)
            readiness = Readiness(environment_verified=None)
            if not verify_env:
                on_warning("environment verification skipped (--no-verify-env): serving unverified")
            else:
                readiness = check(served, on_warning=on_warning, workspace=ws)
            state = serving_state(
                ws, served, readiness, sample_rate, allow_unrestricted_pickle, alias=alias
            )
            if not readiness.ready:
                on_warning("not ready: " + "; ".join(readiness.reasons))
            asgi_app: ASGIApp | None = None
            follower: AliasFollower | None = None
            if workers == 1:
                asgi_app = create_app(state, max_body_bytes)
                if follow_alias:

                    def switched(now: ServingState) -> None:
                        if record_deployment is not None:
                            _record_self(
                                ws, now.version.ref, record_deployment, deployment_image, True
                            )

                    asgi_app = follower = alias_follower(
                        ws,
                        reference,
                        state,
                        lambda serving: create_app(serving, max_body_bytes),
                        verify_env=verify_env,
                        sample_rate=sample_rate,
                        allow_unrestricted_pickle=allow_unrestricted_pickle,
                        poll_interval=poll_interval,
                        report=on_switch or _say_nothing,
                        warn=on_warning,
                        on_switch=switched,
                    )
        model = f"{state.version.name}/{state.version.version}"
        gates = _gates(readiness, verify_env)
        following = reference if follow_alias else None

        def listening(url: str) -> None:
            if record_deployment is not None:
                _record_self(ws, model, record_deployment, deployment_image, readiness.ready)
            if on_ready is not None:
                on_ready(Listening(url, model, gates, readiness.ready, following))

        options: dict[str, Any] = {
            "host": host,
            "port": port,
            "log_config": _log_config(access_log),
            "access_log": access_log,
            "ws": "none",  # no endpoint speaks WebSocket: skip importing a WebSocket library
        }
        if asgi_app is not None:
            try:
                _run(uvicorn.Config(asgi_app, **options), listening)
            finally:
                if follower is not None:
                    follower.close()  # the version answering last, which may not be ``state``
                else:
                    state.close()
            return
        state.close()
        # Each worker loads and checks the model itself; the options reach it in the environment.
        follow = (reference, poll_interval, verify_env) if follow_alias else None
        os.environ[OPTIONS_VARIABLE] = serving_options(
            ws.root,
            served,
            readiness,
            sample_rate,
            max_body_bytes,
            allow_unrestricted_pickle,
            follow,
        )
        config = uvicorn.Config(
            "parity.api._serving:build", factory=True, workers=workers, **options
        )
        _run(config, listening)


def _say_nothing(_message: str) -> None:
    pass
