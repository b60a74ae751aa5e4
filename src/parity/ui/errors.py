"""Refusals and errors as pages rather than JSON."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import HTMLResponse, RedirectResponse, Response

from parity.ui.templating import SECURITY_HEADERS, render_text


def error_page(status: int, message: str, hint: str | None) -> Response:
    text = render_text(
        "error.html", viewer=None, can_write=False, csrf="", path="", status=status,
        message=message, hint=hint,
    )  # fmt: skip
    return HTMLResponse(text, status_code=status, headers=SECURITY_HEADERS)


def login_redirect(path: str, query_string: str) -> Response:
    """To the sign-in page, which comes back to ``path`` (a local path only) afterwards."""
    target = path + ("?" + query_string if query_string else "")
    return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
