"""Refusals and errors as pages rather than JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from starlette.responses import HTMLResponse, RedirectResponse, Response

from parity.core.roles import Principal
from parity.ui.templating import SECURITY_HEADERS, render_text


def error_page(
    status: int, message: str, hint: str | None, viewer: Principal | None = None
) -> Response:
    """The error page; with ``viewer`` (who was signed in), its header names them."""
    text = render_text(
        "error.html", viewer=viewer, can_write=False, csrf="", path="", status=status,
        message=message, hint=hint,
    )  # fmt: skip
    return HTMLResponse(text, status_code=status, headers=SECURITY_HEADERS)


def login_redirect(path: str, query_string: str) -> Response:
    """To the sign-in page, which comes back to ``path`` (a local path only) afterwards."""
    target = path + ("?" + query_string if query_string else "")
    return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)


def invalid_address(path: str, problem: Mapping[str, Any]) -> tuple[int, str, str]:
    """``(status, message, hint)`` of a page address a parameter of which did not validate
    (one of FastAPI's validation errors), in words rather than its schema's pattern: a bad
    part of the path names no page (404), a bad query value is refused as by the API (422)."""
    where, *rest = [str(part) for part in problem.get("loc", ("query",))] or ["query"]
    name = rest[0] if rest else "?"
    if where == "path":
        return 404, f"no such page: {path}", f"the {name} in the address names nothing here"
    kind = str(problem.get("type", ""))
    value = problem.get("input")
    if kind == "missing":
        message = f"the address lacks its {name!r} value"
    elif kind == "string_pattern_mismatch":  # not the pattern: it is no help to a reader
        message = f"{str(value)[:80]!r} is not a valid {name!r} here"
    else:  # pydantic's own words: "input should be a valid number", ...
        shown = f" {str(value)[:80]!r}" if isinstance(value, str | int | float) else ""
        message = f"{name!r}{shown}: {str(problem.get('msg', 'invalid')).lower()}"
    return 422, message, "go back and use the page's form, or fix the address"
