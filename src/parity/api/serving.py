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

import ipaddress
import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from parity.api._models import describe_blocking, resolve_source, verify_model_environment
from parity.api._session import session
from parity.core.env_rules import Risk
from parity.core.errors import EnvironmentMismatch
from parity.serve.collector import collector_paused_for_startup
from parity.serve.limits import DEFAULT_MAX_BODY_BYTES
from parity.workspace import Workspace

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from parity.serve.state import Readiness, ServingState

__all__ = ["app", "check", "load", "serve"]

DEFAULT_SAMPLE_RATE = 0.1


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
    from parity.serve.state import Readiness  # lazy: NumPy and SQLAlchemy load only to serve

    readiness = Readiness(environment_verified=None)
    with session(workspace) as ws:
        source = resolve_source(ws, reference)
        result = verify_model_environment(ws, source.record)
    if result is None:
        on_warning(
            f"{source.label} has no recorded environment to verify against: serving unverified"
        )
        return readiness
    if not result.ok:
        raise EnvironmentMismatch(
            f"refusing to serve {source.label}: {describe_blocking(result)}",
            result.blocking,
            hint="serve it from its own environment (parity env restore), or --no-verify-env",
        )
    readiness.environment_verified = True
    readiness.environment_report = [
        d.to_dict() for d in result.diff.differences if d.risk > Risk.INFO
    ]
    return readiness


def load(
    reference: str,
    *,
    readiness: Readiness | None = None,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    workspace: Workspace | None = None,
) -> ServingState:
    """Load the model behind ``reference`` for serving (verified byte for byte), golden-checked.

    ``readiness`` is what ``check`` returned (default: unverified). ``sample_rate`` is the
    fraction of requests whose rows are logged for drift checks. Close the state when done.
    """
    from parity.api._serving import serving_state  # lazy: NumPy and SQLAlchemy
    from parity.serve.state import Readiness  # lazy: NumPy and SQLAlchemy

    with session(workspace) as ws:
        return serving_state(
            ws, reference, readiness or Readiness(environment_verified=None), sample_rate
        )


def app(state: ServingState, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Starlette:
    """The ASGI app that serves a loaded model; a larger request body than
    ``max_body_bytes`` is refused with 413."""
    from parity.serve.app import create_app  # lazy: Starlette

    return create_app(state, max_body_bytes)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    reference: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    verify_env: bool = True,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    on_warning: Callable[[str], None] = _warn,
    workspace: Workspace | None = None,
) -> None:
    """Check, load and serve ``reference`` over HTTP until stopped (blocks).

    >>> parity.api.serving.serve("churn@production", host="0.0.0.0", workers=4)  # doctest: +SKIP

    With ``verify_env=False`` the environment check is skipped and the server says so. Anything
    worth knowing (no authentication off loopback, unverified, not ready) goes to ``on_warning``.
    """
    if not _is_loopback(host):
        on_warning(f"binding to {host}: the model server has no authentication; put it behind one")
    with session(workspace) as ws:
        with collector_paused_for_startup():
            import uvicorn  # lazy: the server's libraries load with the collector paused

            from parity.api._serving import (  # lazy: NumPy, SQLAlchemy, collector paused
                OPTIONS_VARIABLE,
                serving_options,
                serving_state,
            )
            from parity.serve.app import create_app  # lazy: Starlette, collector paused
            from parity.serve.state import Readiness  # lazy: NumPy, SQLAlchemy, collector paused

            readiness = Readiness(environment_verified=None)
            if not verify_env:
                on_warning("environment verification skipped (--no-verify-env): serving unverified")
            else:
                readiness = check(reference, on_warning=on_warning, workspace=ws)
            state = serving_state(ws, reference, readiness, sample_rate)
            if not readiness.ready:
                on_warning("not ready: " + "; ".join(readiness.reasons))
            asgi_app = create_app(state, max_body_bytes) if workers == 1 else None
        if asgi_app is not None:
            try:
                uvicorn.run(
                    asgi_app,
                    host=host,
                    port=port,
                    log_level="warning",
                    access_log=False,
                    ws="none",  # no endpoint speaks WebSocket: skip importing a WebSocket library
                )
            finally:
                state.close()
            return
        state.close()
        # Each worker loads and checks the model itself; the options reach it in the environment.
        os.environ[OPTIONS_VARIABLE] = serving_options(
            ws.root, reference, readiness, sample_rate, max_body_bytes
        )
        uvicorn.run(
            "parity.api._serving:build",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
            ws="none",
        )
