"""The one route table: every route of the API, with the role it needs (``routing.Route``).
A module of routes joins the API by being listed here, and only so."""

from __future__ import annotations

from parity.server import (
    routes_accounts,
    routes_data,
    routes_deploy,
    routes_health,
    routes_models,
    routes_monitor,
    routes_objects,
    routes_records,
    routes_repro,
    routes_runs,
)
from parity.server.routing import Route

ROUTES: tuple[Route, ...] = (
    *routes_health.ROUTES,
    *routes_accounts.ROUTES,
    *routes_objects.ROUTES,
    *routes_records.ROUTES,
    *routes_data.ROUTES,
    *routes_models.ROUTES,
    *routes_monitor.ROUTES,
    *routes_runs.ROUTES,
    *routes_repro.ROUTES,
    *routes_deploy.ROUTES,
)
