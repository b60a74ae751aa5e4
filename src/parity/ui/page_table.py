"""Every page of the web UI; the server's route table takes them all (``server.route_table``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path as PathParameter
from starlette.responses import Response

from parity.ui import (
    pages_data,
    pages_drift,
    pages_environments,
    pages_models,
    pages_runs,
    pages_session,
)
from parity.ui.assets import favicon, static_file
from parity.ui.page import Page


def static(name: Annotated[str, PathParameter(max_length=200)]) -> Response:
    """A static file by its content-hashed name, cacheable for a year."""
    return static_file(name)


PAGES: tuple[Page, ...] = (
    Page("GET", "/static/{name:path}", None, static, "Get a static file"),
    Page("GET", "/favicon.ico", None, favicon, "Get the site's icon"),
    *pages_session.PAGES,
    *pages_runs.PAGES,
    *pages_models.PAGES,
    *pages_environments.PAGES,
    *pages_data.PAGES,
    *pages_drift.PAGES,
)
