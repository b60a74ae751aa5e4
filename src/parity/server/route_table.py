"""The one route table: every route of the API (``ROUTES``) and every page of the web UI
(``PAGE_ROUTES``, flagged ``page``), each with the role it needs (``routing.Route``). The app
serves ``SERVED``, both behind the one gate; a module of routes or pages joins by being listed
here, and only so."""

from __future__ import annotations

from parity.server import (
    routes_accounts,
    routes_data,
    routes_deploy,
    routes_events,
    routes_health,
    routes_models,
    routes_monitor,
    routes_objects,
    routes_records,
    routes_repro,
    routes_runs,
)
from parity.server.routing import PUBLIC, Route
from parity.ui.page_table import PAGES

# A page's form is small: the largest body a page route takes.
_PAGE_BODY = 64 << 10

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
    *routes_events.ROUTES,
)
PAGE_ROUTES: tuple[Route, ...] = tuple(
    Route(
        page.method,
        page.path,
        PUBLIC if page.access is None else page.access,
        page.endpoint,
        page.summary,
        scope=page.scope,
        max_body=_PAGE_BODY,
        page=True,
        costly=page.costly,
    )
    for page in PAGES
)

SERVED: tuple[Route, ...] = ROUTES + PAGE_ROUTES
