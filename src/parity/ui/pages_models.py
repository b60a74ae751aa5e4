"""The registry: models, and one model's versions, aliases, locks, audit timeline and lineage,
with alias moves and locks for viewers whose role allows them (forms with a CSRF token)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from parity.api import models as models_api
from parity.core.errors import NotFoundError, ParityError, UsageError
from parity.core.roles import Principal, Role, Scope
from parity.registry.versions import Actor
from parity.ui.lineage_svg import layout
from parity.ui.page import Form, ModelName, Page, SignedIn, Viewer, WorkspaceOf
from parity.ui.templating import render

IN_MODEL = (Scope.MODEL, "name")


def models_page(request: Request, ws: WorkspaceOf, viewer: Viewer) -> Response:
    """Every registered model with its latest version and aliases."""
    return render(request, "models.html", viewer, models=models_api.list(workspace=ws))


def model_page(
    request: Request, name: ModelName, ws: WorkspaceOf, viewer: Viewer, version: int | None = None
) -> Response:
    """A model: versions, aliases, locks, the audit timeline, and one version's lineage."""
    versions = models_api.versions(name, workspace=ws)
    if not versions:
        raise NotFoundError(f"no model {name!r}", hint="see the models page")
    shown = next((v for v in versions if v.version == version), versions[-1])
    try:
        drawing = layout(models_api.lineage(shown.ref, workspace=ws))
    except ParityError:
        drawing = None
    may_write = viewer is not None and viewer.may(Role.WRITER, (Scope.MODEL, name))
    history = list(reversed(models_api.history(name, workspace=ws)))  # newest first
    return render(
        request, "model.html", viewer, name=name, versions=list(reversed(versions)),
        shown=shown, drawing=drawing, history=history, may_change=may_write,
        error=request.query_params.get("error"),
    )  # fmt: skip


def _acting(viewer: Principal, name: str) -> Actor:
    return Actor(name=viewer.user, admin=viewer.may(Role.ADMIN, (Scope.MODEL, name)))


def _back(name: str, error: ParityError | None = None) -> Response:
    tail = f"?error={quote(error.message)}" if error is not None else ""
    return RedirectResponse(f"/models/{quote(name)}{tail}", status_code=303)


def _version(form: dict[str, str]) -> int:
    text = form.get("version", "")
    if not text.isdigit():
        raise UsageError(f"version {text!r} is not a number", hint="pick a version")
    return int(text)


def move_alias(name: ModelName, form: Form, ws: WorkspaceOf, viewer: SignedIn) -> Response:
    """Point an alias at a version, with a reason, as the signed-in user (audited)."""
    alias = form.get("alias", "").strip()
    if not alias:
        return _back(name, UsageError("name the alias"))
    try:
        ws.registry.set_alias(
            name, _version(form), alias, _acting(viewer, name), form.get("reason") or None,
            force=form.get("force") == "1",
        )  # fmt: skip
    except ParityError as error:
        return _back(name, error)
    return _back(name)


def lock_version(name: ModelName, form: Form, ws: WorkspaceOf, viewer: SignedIn) -> Response:
    """Lock or unlock a version (unlocking: admins only, as the registry rules)."""
    try:
        number = _version(form)
        reason = form.get("reason") or None
        if form.get("action") == "unlock":
            ws.registry.unlock(name, number, _acting(viewer, name), reason)
        else:
            ws.registry.lock(name, number, _acting(viewer, name), reason)
    except ParityError as error:
        return _back(name, error)
    return _back(name)


PAGES = (
    Page("GET", "/models", Role.READER, models_page, "Show the models"),
    Page("GET", "/models/{name}", Role.READER, model_page, "Show a model", scope=IN_MODEL),
    Page("POST", "/models/{name}/alias", Role.WRITER, move_alias, "Move an alias",
         scope=IN_MODEL),
    Page("POST", "/models/{name}/lock", Role.WRITER, lock_version, "Lock or unlock a version",
         scope=IN_MODEL),
)  # fmt: skip
