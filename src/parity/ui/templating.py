"""Rendering a page: the Jinja2 templates, with what every page needs (who is looking, the CSRF
token of its forms, the hashed names of the static files)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from parity.core.roles import Principal, Role
from parity.ui import assets
from parity.ui.session import csrf_token, remember_csrf

TEMPLATES = Path(__file__).parent / "templates"
# Pages may not be framed, run inline scripts or load anything from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def when(ms: int | None) -> str:
    if ms is None:
        return ""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")  # said on every time: nothing is local


def duration(start_ms: int | None, end_ms: int | None) -> str:
    if start_ms is None or end_ms is None:
        return ""
    seconds = max(0, (end_ms - start_ms) // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def plural(count: int, word: str) -> str:
    """``1 file``, ``2 files``, with thousands separated."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def size(value: int | None) -> str:
    """A byte count as people read it: ``4.4 KB``; exact below a kilobyte."""
    if value is None or value < 0:
        return ""
    amount = float(value)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if amount < 1024 or unit == "TB":
            return f"{value:,} bytes" if unit == "bytes" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{value:,} bytes"  # not reached: TB ends the loop


def number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def drift_bar(
    value: float | None, limit: float | None, top: float | None = None
) -> dict[str, float]:
    """Widths (percent of a bar) of a drift statistic and of its limit. ``top`` (from
    ``drift_scale``) is the full bar, the same for every row of a column so that bars compare
    down the page; without it, the larger of the two fills 80 %."""
    full = top or max(value or 0.0, limit or 0.0) / 0.8 or 1.0
    return {"value": 100 * (value or 0.0) / full, "limit": 100 * (limit or 0.0) / full}


def drift_scale(features: Any) -> dict[str, float]:
    """The full bar of the PSI and the KS column: the largest statistic or limit of any row
    at 80 %, so every row of a column is drawn to one scale."""
    scale = {}
    for column in ("psi", "ks"):
        largest = 0.0
        for feature in features:
            for value in (getattr(feature, column), getattr(feature, f"{column}_threshold")):
                largest = max(largest, value or 0.0)
        scale[column] = largest / 0.8 or 1.0
    return scale


def query(base: dict[str, Any], **changes: Any) -> str:
    """``?``-string of ``base`` with ``changes`` (None drops a key; lists repeat it)."""
    merged = {**base, **changes}
    pairs: list[tuple[str, str]] = []
    for key, value in merged.items():
        if value is None or value == "" or value == []:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, str(item)))
    return "?" + urlencode(pairs) if pairs else "?"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(asset=assets.url, query=query, drift_bar=drift_bar, drift_scale=drift_scale)
    env.filters.update(when=when, duration=duration, number=number, size=size, plural=plural)
    return env


def render_text(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values)


def render(
    request: Request, template: str, viewer: Principal | None, status: int = 200, **values: Any
) -> HTMLResponse:
    """The page ``template`` for ``viewer``, with the CSRF cookie set when it is new."""
    text = render_text(
        template,
        viewer=viewer,
        can_write=viewer is not None and viewer.role >= Role.WRITER,
        csrf=csrf_token(request),
        path=request.url.path,
        **values,
    )
    response = HTMLResponse(text, status_code=status, headers=SECURITY_HEADERS)
    remember_csrf(request, response)
    return response
